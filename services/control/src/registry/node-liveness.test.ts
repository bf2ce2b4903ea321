import { test } from "node:test";
import assert from "node:assert/strict";
import { LivenessTracker, nodeStatus } from "./node-liveness.js";

const node = (hb?: number, tel?: number) => ({ id: "n1", containers: 0, lastHeartbeatAt: hb, lastTelemetryAt: tel });

test("nodeStatus", async (t) => {
  const cases: Array<[string, ReturnType<typeof node>, number, "up" | "down"]> = [
    ["never seen", node(), 10_000, "down"],
    ["fresh heartbeat", node(9_000), 10_000, "up"],
    ["heartbeat exactly at the limit", node(4_000), 10_000, "up"],
    ["stale heartbeat", node(3_999), 10_000, "down"],
    ["stale heartbeat but fresh telemetry", node(1_000, 9_500), 10_000, "up"],
  ];
  for (const [name, n, now, expected] of cases) {
    await t.test(name, () => assert.equal(nodeStatus(n, now, 6_000), expected));
  }
});

test("LivenessTracker reports only transitions", () => {
  const tr = new LivenessTracker();
  assert.deepEqual(tr.observe([node(1_000)], 2_000, 6_000), [{ nodeId: "n1", status: "up" }]);
  assert.deepEqual(tr.observe([node(1_000)], 3_000, 6_000), []);
  assert.deepEqual(tr.observe([node(1_000)], 8_000, 6_000), [{ nodeId: "n1", status: "down" }]);
  assert.deepEqual(tr.observe([node(8_500)], 9_000, 6_000), [{ nodeId: "n1", status: "up" }]);
});
