import { test } from "node:test";
import assert from "node:assert/strict";
import { buildSnapshot, containerLineage, downsample, joinHistories } from "./snapshot-builder.js";
import type { ContainerRecord } from "../state/state-store.js";
import { ZERO_CONTAINER_USAGE } from "../../../../shared/src/contracts/index.js";

const container = (id: string, nodeId: string, cpuPct: number, state: ContainerRecord["state"] = "running"): ContainerRecord => ({
  id,
  name: `c-${id}`,
  image: "img",
  state,
  labels: {},
  ...ZERO_CONTAINER_USAGE,
  cpuPct,
  memLimitBytes: null,
  memBytes: 1000,
  netRxBps: 5,
  netTxBps: 5,
  pids: 1,
  nodeId,
  updatedAt: 1,
});

test("node usage is the sum of its running containers, in millicores", () => {
  const s = buildSnapshot({
    now: 10_000,
    intervalSec: 10,
    nodes: [
      { id: "n1", containers: 3, cpuCores: 2, memTotalBytes: 4096, status: "up" },
      { id: "n2", containers: 0, cpuCores: 4, memTotalBytes: 8192, status: "down" },
    ],
    containers: [
      { record: container("aaaa", "n1", 150), cpuHistory: [100, 150] },
      { record: container("bbbb", "n1", 50), cpuHistory: [50], cpuForecast: [60, 70] },
      { record: container("cccc", "n1", 99, "exited"), cpuHistory: [] },
      { record: container("dddd", "n9", 10), cpuHistory: [] },
    ],
    running: [],
    lastMigratedAt: new Map([["c-aaaa", 5_000]]),
    transferRateBps: 1e6,
  });
  assert.deepEqual(
    s.nodes.map((n) => [n.id, n.up, n.capacity.cpu, n.usage.cpu]),
    [
      ["n1", true, 2000, 2000],
      ["n2", false, 4000, 0],
    ],
  );
  assert.deepEqual(
    s.containers.map((c) => c.id),
    ["aaaa", "bbbb"],
    "exited containers and unknown nodes are left out",
  );
  assert.deepEqual(s.containers[0]!.history?.cpu, [1000, 1500]);
  assert.deepEqual(s.containers[1]!.forecast?.cpu, [600, 700]);
  assert.equal(s.containers[0]!.lastMigratedAt, 5_000);
  assert.equal(s.containers[1]!.lastMigratedAt, undefined);
});

test("downsample averages whole buckets, oldest partial bucket first", () => {
  assert.deepEqual(downsample([1, 2, 3, 4, 5, 6, 7], 3), [1, 3, 6]);
  assert.deepEqual(downsample([1, 2], 1), [1, 2]);
  assert.deepEqual(downsample([], 5), []);
});

test("a migrated container's history follows it across its ids (committed migrations only)", () => {
  const migrations = [
    { containerId: "id-b", destinationContainerId: "id-c", state: "committed" },
    { containerId: "id-c", destinationContainerId: "id-x", state: "rolled-back" },
    { containerId: "id-a", destinationContainerId: "id-b", state: "committed" },
    { containerId: "other", destinationContainerId: "other-2", state: "committed" },
  ];
  assert.deepEqual(containerLineage("id-c", migrations), ["id-a", "id-b", "id-c"]);
  assert.deepEqual(containerLineage("id-x", migrations), ["id-x"]);
  assert.deepEqual(containerLineage("fresh", migrations), ["fresh"]);
  // A cycle (cannot happen, but records are data) ends the walk instead of looping.
  assert.deepEqual(
    containerLineage("p", [
      { containerId: "q", destinationContainerId: "p", state: "committed" },
      { containerId: "p", destinationContainerId: "q", state: "committed" },
    ]),
    ["q", "p"],
  );
  const h = (ts: number[]) => ts.map((t) => ({ t, cpuPct: t }));
  // Points repeated or out of order at a seam are dropped; the newest `limit` are kept.
  assert.deepEqual(
    joinHistories([h([1, 2, 3]), h([3, 4]), h([5, 6])], 5).map((p) => p.t),
    [2, 3, 4, 5, 6],
  );
});
