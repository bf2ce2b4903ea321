import type { ClusterSnapshot, ContainerSnapshot, NodeSnapshot } from "./cluster-snapshot.js";

/** Index of a snapshot that policies share: nodes by id, containers per node, who is migrating. */
export interface SnapshotIndex {
  readonly nodes: readonly NodeSnapshot[];
  readonly nodeIdx: ReadonlyMap<string, number>;
  /** Containers per node index, in snapshot order. */
  readonly byNode: readonly ContainerSnapshot[][];
  /** Containers currently being migrated (source or destination side). */
  readonly migrating: ReadonlySet<string>;
  /** CPU and memory reserved on each node by migrations coming in. */
  readonly incomingCpu: Float64Array;
  readonly incomingMem: Float64Array;
}

export function indexSnapshot(s: ClusterSnapshot): SnapshotIndex {
  const nodeIdx = new Map<string, number>();
  s.nodes.forEach((n, i) => nodeIdx.set(n.id, i));
  const byNode: ContainerSnapshot[][] = s.nodes.map(() => []);
  const byId = new Map<string, ContainerSnapshot>();
  for (const c of s.containers) {
    const i = nodeIdx.get(c.nodeId);
    if (i !== undefined) byNode[i]!.push(c);
    byId.set(c.id, c);
  }
  const migrating = new Set<string>();
  const incomingCpu = new Float64Array(s.nodes.length);
  const incomingMem = new Float64Array(s.nodes.length);
  for (const m of s.migrations) {
    migrating.add(m.containerId);
    const to = nodeIdx.get(m.to);
    const c = byId.get(m.containerId);
    if (to !== undefined && c) {
      incomingCpu[to] = incomingCpu[to]! + c.demand.cpu;
      incomingMem[to] = incomingMem[to]! + c.demand.memoryBytes;
    }
  }
  return { nodes: s.nodes, nodeIdx, byNode, migrating, incomingCpu, incomingMem };
}

/**
 * Watts at utilization u (0..1) from an 11-point table, linear in between (SPECpower style). The
 * arithmetic is CloudSim 3.0.3's PowerModelSpecPower.getPower, operation for operation: PABFD
 * compares power increases that are equal up to rounding (a tiny VM on any host of one type in the
 * same 10 % band), so the host chosen among them depends on how the rounding falls.
 */
export function powerAt(table: readonly number[], u: number): number {
  const x = Math.min(1, Math.max(0, u));
  if (x % 0.1 === 0) return table[Math.trunc(x * 10)]!;
  const lo = Math.floor(x * 10);
  const hi = Math.ceil(x * 10);
  const p1 = table[lo]!;
  const delta = (table[hi]! - p1) / 10;
  return p1 + delta * (x - lo / 10) * 100;
}

/** Migration time in seconds for a container at the snapshot's transfer rate. */
export function migrationSeconds(c: ContainerSnapshot, transferRateBps: number): number {
  return transferRateBps > 0 ? c.memorySizeBytes / transferRateBps : Infinity;
}

export function fmtPct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}
