import type { ClusterSnapshot, ContainerSnapshot, NodeSnapshot } from "./cluster-snapshot.js";

/** Small builders for table-driven policy tests. CPU in millicores, memory in MB ×1e6. */
export function node(id: string, cores = 4, o: Partial<{ up: boolean; memMb: number; usage: number; power: number[] }> = {}): NodeSnapshot {
  return {
    id,
    up: o.up ?? true,
    capacity: { cpu: cores * 1000, cpuPerCore: 1000, memoryBytes: (o.memMb ?? 16_000) * 1e6, netBps: 1e9 },
    usage: { cpu: o.usage ?? 0, memoryBytes: 0, netBps: 0 },
    ...(o.power ? { powerWatts: o.power } : {}),
  };
}

export function ctr(
  id: string,
  nodeId: string,
  cpu: number,
  o: Partial<{ memMb: number; sizeMb: number; history: number[]; forecast: number[]; lastMigratedAt: number; net: number }> = {},
): ContainerSnapshot {
  return {
    id,
    nodeId,
    demand: { cpu, memoryBytes: (o.memMb ?? 100) * 1e6, netBps: o.net ?? 0 },
    history: { cpu: o.history ?? [cpu] },
    ...(o.forecast ? { forecast: { cpu: o.forecast } } : {}),
    memorySizeBytes: (o.sizeMb ?? 256) * 1e6,
    ...(o.lastMigratedAt !== undefined ? { lastMigratedAt: o.lastMigratedAt } : {}),
  };
}

export function snap(nodes: NodeSnapshot[], containers: ContainerSnapshot[], o: Partial<ClusterSnapshot> = {}): ClusterSnapshot {
  // Node usage defaults to the sum of its containers' demand (what telemetry would report).
  const withUsage = nodes.map((n) =>
    n.usage.cpu === 0 ? { ...n, usage: { ...n.usage, cpu: containers.filter((c) => c.nodeId === n.id).reduce((a, c) => a + c.demand.cpu, 0) } } : n,
  );
  return { now: 10_000_000, intervalSec: 300, nodes: withUsage, containers, migrations: [], transferRateBps: 50e6, ...o };
}

export const LINEAR_POWER = [100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200];
