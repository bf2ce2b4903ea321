import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generateJobWorkload, simulateJobs, type JobWorkload } from "./job-simulation.js";

const GiB = 1024 ** 3;

describe("job scheduler simulation", () => {
  it("queues, places when capacity frees and refuses the oversized (hand-computed)", () => {
    const one = (id: string, cpus: number) => ({ id, arrival: 0.5, duration: 10, priority: 0, items: [{ cpus, memoryBytes: GiB }] });
    const w: JobWorkload = { nodes: [{ id: "n1", cpus: 2, memoryBytes: 8 * GiB }], jobs: [one("a", 2), one("b", 2), one("c", 2), one("huge", 4)] };
    for (const policy of ["ff", "bf", "ffd", "bfd"] as const) {
      const r = simulateJobs(w, policy);
      assert.equal(r.refused, 1);
      assert.equal(r.placed, 3);
      assert.equal(r.neverPlaced, 0);
      // a at t=1 (waited 0.5 s), b when a ends at 11, c when b ends at 21.
      assert.equal(r.meanQueueWaitS, (0.5 + 10.5 + 20.5) / 3);
      assert.equal(r.peakNodesUsed, 1);
      assert.equal(r.meanUtilisationOfUsed, 1);
      assert.equal(r.simulatedSeconds, 31);
    }
  });

  it("generates a repeatable workload near the asked load", () => {
    const a = generateJobWorkload({ nodeCount: 50, jobCount: 2000, seed: 3 });
    assert.deepEqual(a, generateJobWorkload({ nodeCount: 50, jobCount: 2000, seed: 3 }));
    assert.equal(a.nodes.length, 50);
    assert.equal(a.jobs.length, 2000);
    for (let i = 1; i < a.jobs.length; i++) assert.ok(a.jobs[i]!.arrival >= a.jobs[i - 1]!.arrival);
    const r = simulateJobs(a, "bfd");
    assert.equal(r.placed + r.refused, 2000);
    assert.ok(r.meanClusterUtilisation > 0.4 && r.meanClusterUtilisation < 1, `utilisation ${r.meanClusterUtilisation}`);
  });
});
