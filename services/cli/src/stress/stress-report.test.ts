import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { JobRecord } from "../../../../shared/src/contracts/jobs.js";
import { percentile, stressReport, summarize } from "./stress-report.js";
import type { StressResult } from "./stress-run.js";

const job = (id: string, state: JobRecord["state"], submittedAt: number, placedAt?: number, runningAt?: number): JobRecord => ({
  id,
  name: id,
  state,
  priority: 0,
  submittedAt,
  ...(placedAt !== undefined ? { placedAt } : {}),
  ...(runningAt !== undefined ? { runningAt } : {}),
  tasks: [],
});

const run: StressResult = {
  label: "steady",
  pattern: "steady",
  rate: 2,
  durationS: 2,
  seed: 1,
  hold: false,
  startedAt: 0,
  submitSeconds: 2,
  submissions: [
    { at: 0, latencyMs: 10, status: 202, jobId: "j-1" },
    { at: 500, latencyMs: 20, status: 202, jobId: "j-2" },
    { at: 1000, latencyMs: 30, status: 422, error: "job refused" },
    { at: 1500, latencyMs: 40, status: 0, error: "fetch failed" },
  ],
  jobs: [job("j-1", "succeeded", 1000, 1100, 1500), job("j-2", "failed", 2000, 2300, 2900)],
  unfinished: 0,
};

describe("stress report", () => {
  it("nearest-rank percentiles", () => {
    assert.equal(percentile([5, 1, 4, 2, 3], 50), 3);
    assert.equal(percentile([5, 1, 4, 2, 3], 99), 5);
    assert.ok(Number.isNaN(percentile([], 50)));
  });

  it("summarizes latency, refusals, errors, queue wait, time to running and outcomes (hand-computed)", () => {
    const s = summarize(run);
    assert.equal(s.submitted, 4);
    assert.equal(s.accepted, 2);
    assert.equal(s.refused, 1);
    assert.equal(s.httpErrors, 1);
    assert.equal(s.achievedRate, 1);
    assert.deepEqual(s.latencyMs, { p50: 20, p95: 40, p99: 40, max: 40 });
    assert.deepEqual(s.queueWaitMs, { p50: 100, p95: 300, p99: 300, mean: 200 });
    assert.deepEqual(s.timeToRunningMs, { p50: 500, p95: 900, p99: 900 });
    assert.equal(s.succeeded, 1);
    assert.equal(s.failed, 1);
  });

  it("writes markdown with one row per run and three SVG plots", () => {
    const r = stressReport([run, { ...run, label: "bursty", pattern: "bursty" }]);
    assert.match(r.markdown, /\| steady \| steady \| 2 \| 4 \| 2 \| 1 \| 1 \|/);
    assert.match(r.markdown, /\| bursty \| bursty \|/);
    assert.deepEqual(Object.keys(r.svgs).sort(), ["stress-queue-wait.svg", "stress-submit-latency.svg", "stress-time-to-running.svg"]);
    for (const svg of Object.values(r.svgs)) assert.match(svg, /^<svg [\s\S]*<\/svg>$/);
  });
});
