import type { NodeCapacityView } from "../../../../shared/src/contracts/jobs.js";
import type { PackingNode } from "../placement/bin-packing.js";
import type { NodeRecord } from "../state/state-store.js";
import type { Reservation } from "./job-store.js";

/** A node's capacity for reservations: what its agent's heartbeat offers, else what telemetry measured. */
export function nodeCapacity(n: NodeRecord): { cpus: number; memoryBytes: number; source: NodeCapacityView["source"] } {
  if (n.capacityCpus && n.capacityMemoryBytes) return { cpus: n.capacityCpus, memoryBytes: n.capacityMemoryBytes, source: "heartbeat" };
  if (n.cpuCores && n.memTotalBytes) return { cpus: n.cpuCores, memoryBytes: n.memTotalBytes, source: "telemetry" };
  return { cpus: 0, memoryBytes: 0, source: "unknown" };
}

/**
 * Capacity, reservations and status per node. A reservation is charged to the node its container
 * is on now (`containerNodes`, by name — a live migration keeps the name), else where it was placed.
 */
export function capacityViews(
  nodes: readonly NodeRecord[],
  status: (n: NodeRecord) => "up" | "down",
  reservations: readonly Reservation[],
  containerNodes: ReadonlyMap<string, string>,
): NodeCapacityView[] {
  const reserved = new Map<string, { cpus: number; mem: number }>();
  for (const r of reservations) {
    const at = containerNodes.get(r.container) ?? r.nodeId;
    const u = reserved.get(at) ?? { cpus: 0, mem: 0 };
    u.cpus += r.cpus;
    u.mem += r.memoryBytes;
    reserved.set(at, u);
  }
  return nodes.map((n) => {
    const c = nodeCapacity(n);
    const u = reserved.get(n.id) ?? { cpus: 0, mem: 0 };
    return { id: n.id, status: status(n), cpus: c.cpus, memoryBytes: c.memoryBytes, reservedCpus: round(u.cpus), reservedMemoryBytes: u.mem, source: c.source };
  });
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** The nodes a batch may be packed onto: up, with a known capacity. */
export function packingNodes(views: readonly NodeCapacityView[]): PackingNode[] {
  return views
    .filter((v) => v.status === "up" && v.cpus > 0 && v.memoryBytes > 0)
    .map((v) => ({
      id: v.id,
      cpus: v.cpus,
      memoryBytes: v.memoryBytes,
      freeCpus: v.cpus - v.reservedCpus,
      freeMemoryBytes: v.memoryBytes - v.reservedMemoryBytes,
    }));
}
