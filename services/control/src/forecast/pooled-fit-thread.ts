import { Worker } from "node:worker_threads";
import { TimeoutError } from "../../../../shared/src/errors.js";
import type { PooledFitOptions, PooledLinearModel } from "./global-linear-forecaster.js";

/** What the fitting thread answers: the model (undefined when the histories were too short), or why it failed. */
export type PooledFitAnswer = { ok: true; model?: PooledLinearModel } | { ok: false; error: string };

/** One fit's input, as it crosses to the thread (structured clone: plain data only). */
export interface PooledFitRequest {
  histories: ReadonlyArray<readonly number[]>;
  opts: Partial<Omit<PooledFitOptions, "covariates">>;
}

function isAnswer(m: unknown): m is PooledFitAnswer {
  if (typeof m !== "object" || m === null || !("ok" in m)) return false;
  if (m.ok === false) return "error" in m && typeof m.error === "string";
  if (m.ok !== true) return false;
  if (!("model" in m) || m.model === undefined) return true;
  const model = m.model;
  return (
    typeof model === "object" && model !== null && "kind" in model && model.kind === "herd-pooled-linear" && "models" in model && Array.isArray(model.models)
  );
}

/**
 * Fits the pooled model (fitPooledLinear) on a worker thread, so the event loop goes on meanwhile: at 20,000 series the
 * fit takes ~4 s of CPU (bench:scale at 1,000 nodes; mostly the ridge's IRLS passes over its 50,000 rows), and on the
 * control's own thread it held ingest and the API that long each retrain period. The thread is ended at `timeoutMs`.
 */
export function fitPooledOffThread(req: PooledFitRequest, timeoutMs = 120_000): Promise<PooledLinearModel | undefined> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./pooled-fit-worker.js", import.meta.url), { workerData: req });
    // A fit never keeps a stopping process alive.
    worker.unref();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => finish(() => reject(new TimeoutError(`pooled model fit: no answer within ${timeoutMs} ms`, { retryable: true }))),
      timeoutMs,
    );
    worker.once("message", (m: unknown) =>
      finish(() => {
        if (!isAnswer(m)) reject(new Error("pooled model fit: the fitting thread answered something else than a fit"));
        else if (m.ok) resolve(m.model);
        else reject(new Error(`pooled model fit failed: ${m.error}`));
      }),
    );
    worker.once("error", (err) => finish(() => reject(err)));
    worker.once("exit", (code) => finish(() => reject(new Error(`pooled model fit: the fitting thread exited (${code}) without an answer`))));
  });
}
