// The thread behind fitPooledOffThread (pooled-fit-thread.ts): one fit, one answer, then it ends.
import { parentPort, workerData } from "node:worker_threads";
import { fitPooledLinear } from "./global-linear-forecaster.js";
import type { PooledFitAnswer, PooledFitRequest } from "./pooled-fit-thread.js";

function fitRequest(data: unknown): PooledFitRequest {
  if (
    typeof data === "object" &&
    data !== null &&
    "histories" in data &&
    Array.isArray(data.histories) &&
    "opts" in data &&
    typeof data.opts === "object" &&
    data.opts !== null
  ) {
    return { histories: data.histories, opts: data.opts };
  }
  throw new Error("the thread was started without a fit request");
}

let answer: PooledFitAnswer;
try {
  const req = fitRequest(workerData);
  answer = { ok: true, model: fitPooledLinear(req.histories, req.opts) };
} catch (err) {
  answer = { ok: false, error: err instanceof Error ? err.message : String(err) };
}
parentPort?.postMessage(answer);
