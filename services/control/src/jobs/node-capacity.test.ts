import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { NodeRecord } from "../state/state-store.js";
import type { Reservation } from "./job-store.js";
import { capacityViews, nodeCapacity, packingNodes } from "./node-capacity.js";

const MiB = 1_048_576;
const node = (id: string, extra: Partial<NodeRecord> = {}): NodeRecord => ({ id, containers: 0, capacityCpus: 2, capacityMemoryBytes: 1024 * MiB, ...extra });
const res = (container: string, nodeId: string, cpus: number, mem = 64): Reservation => ({ container, jobId: "j-1", nodeId, cpus, memoryBytes: mem * MiB });
const up = () => "up" as const;

describe("node capacity and reservations", () => {
  it("takes capacity from the heartbeat, else from telemetry (agents that do not report it), else unknown", () => {
    assert.deepEqual(nodeCapacity(node("a")), { cpus: 2, memoryBytes: 1024 * MiB, source: "heartbeat" });
    assert.deepEqual(nodeCapacity({ id: "b", containers: 0, cpuCores: 8, memTotalBytes: 4096 * MiB }), {
      cpus: 8,
      memoryBytes: 4096 * MiB,
      source: "telemetry",
    });
    assert.deepEqual(nodeCapacity({ id: "c", containers: 0 }), { cpus: 0, memoryBytes: 0, source: "unknown" });
  });

  it("charges a reservation to the node it was placed on", () => {
    const v = capacityViews([node("n1"), node("n2")], up, [res("j-1-0", "n1", 0.5), res("j-2-0", "n1", 1, 128)], new Map());
    assert.deepEqual(
      v.map((n) => [n.id, n.reservedCpus, n.reservedMemoryBytes / MiB]),
      [
        ["n1", 1.5, 192],
        ["n2", 0, 0],
      ],
    );
  });

  it("a live-migrated job container keeps its reservation, charged to its new node (keyed by name)", () => {
    const reservations = [res("j-1-0", "n1", 0.5), res("j-2-0", "n1", 1)];
    // After `herd migrate j-1-0 --to n2`, telemetry shows the container (same name) on n2.
    const v = capacityViews([node("n1"), node("n2")], up, reservations, new Map([["j-1-0", "n2"]]));
    assert.deepEqual(
      v.map((n) => [n.id, n.reservedCpus]),
      [
        ["n1", 1],
        ["n2", 0.5],
      ],
    );
    // And placement sees it: n2 has 1.5 free, n1 1.
    assert.deepEqual(
      packingNodes(v).map((n) => [n.id, n.freeCpus]),
      [
        ["n1", 1],
        ["n2", 1.5],
      ],
    );
  });

  it("packs only onto nodes that are up with a known capacity", () => {
    const v = capacityViews([node("n1"), node("n2"), { id: "n3", containers: 0 }], (n) => (n.id === "n2" ? "down" : "up"), [], new Map());
    assert.deepEqual(
      packingNodes(v).map((n) => n.id),
      ["n1"],
    );
  });
});
