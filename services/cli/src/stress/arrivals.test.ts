import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { arrivalTimes, generatedJobs } from "./arrivals.js";

const perSecond = (ts: number[], d: number) => Array.from({ length: d }, (_, s) => ts.filter((t) => t >= s * 1000 && t < (s + 1) * 1000).length);

describe("stress arrival patterns", () => {
  it("steady: rate × duration jobs, evenly spaced", () => {
    const ts = arrivalTimes("steady", 10, 6, 1);
    assert.equal(ts.length, 60);
    assert.deepEqual(perSecond(ts, 6), [10, 10, 10, 10, 10, 10]);
  });
  it("bursty: each window's jobs at once at its start", () => {
    const ts = arrivalTimes("bursty", 10, 10, 1, 5);
    assert.equal(ts.length, 100);
    assert.deepEqual([...new Set(ts)], [0, 5000]);
  });
  it("incremental: same total, the rate grows (second half gets 3× the first)", () => {
    const ts = arrivalTimes("incremental", 10, 10, 1);
    assert.equal(ts.length, 100);
    const first = ts.filter((t) => t < 5000).length;
    assert.equal(first, 25);
    const ps = perSecond(ts, 10);
    for (let i = 1; i < ps.length; i++) assert.ok(ps[i]! >= ps[i - 1]!, `rate never drops (${ps.join(",")})`);
  });
  it("random: Poisson — about rate × duration, repeatable per seed, different across seeds", () => {
    const a = arrivalTimes("random", 50, 20, 7);
    assert.ok(Math.abs(a.length - 1000) < 120, `got ${a.length}`);
    assert.deepEqual(a, arrivalTimes("random", 50, 20, 7));
    assert.notDeepEqual(a, arrivalTimes("random", 50, 20, 8));
    for (let i = 1; i < a.length; i++) assert.ok(a[i]! >= a[i - 1]!);
    assert.ok(a.every((t) => t >= 0 && t < 20_000));
  });
  it("generated jobs are valid submissions, deterministic per seed", () => {
    const j = generatedJobs(20, 3);
    assert.equal(j.length, 20);
    assert.deepEqual(j, generatedJobs(20, 3));
    for (const x of j) {
      assert.equal(x.containers.length, 1);
      assert.equal(x.containers[0]!.cmd[0], "sleep");
      assert.ok([0.1, 0.25, 0.5].includes(x.containers[0]!.cpus));
    }
  });
});
