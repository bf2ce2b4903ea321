import { seededRandom } from "../../../../shared/src/seeded-random.js";
import type { ClusterSnapshot, ContainerSnapshot, NodeSnapshot } from "../placement/cluster-snapshot.js";

/** A large synthetic snapshot (for timing a planning round): some nodes run hot on purpose. */
export function syntheticSnapshot(nodes: number, containers: number, seed = 1, historyLength = 30): ClusterSnapshot {
  const rnd = seededRandom(seed);
  const ns: NodeSnapshot[] = Array.from({ length: nodes }, (_, i) => ({
    id: `n${i}`,
    up: true,
    capacity: { cpu: 16_000, cpuPerCore: 1000, memoryBytes: 64e9, netBps: 1.25e9 },
    usage: { cpu: 0, memoryBytes: 0, netBps: 0 },
    powerWatts: [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135],
  }));
  const cs: ContainerSnapshot[] = [];
  for (let i = 0; i < containers; i++) {
    const node = i % nodes;
    const hot = node % 10 === 0 ? 6 : 1;
    const base = 300 * rnd() * hot;
    const history = Array.from({ length: historyLength }, (_, k) => Math.max(0, base + 40 * Math.sin(k / 3 + i) + 30 * (rnd() - 0.5)));
    const cpu = history[history.length - 1]!;
    cs.push({
      id: `c${i}`,
      nodeId: `n${node}`,
      demand: { cpu, memoryBytes: 2e8 + 1e9 * rnd(), netBps: 1e6 * rnd() },
      history: { cpu: history },
      forecast: { cpu: [cpu * 1.05, cpu * 1.1, cpu] },
      memorySizeBytes: 2.56e8 + 1e9 * rnd(),
    });
  }
  const usage = new Float64Array(nodes);
  for (const c of cs) usage[Number(c.nodeId.slice(1))] = usage[Number(c.nodeId.slice(1))]! + c.demand.cpu;
  const withUsage = ns.map((n, i) => ({ ...n, usage: { ...n.usage, cpu: usage[i]! } }));
  return { now: 1_700_000_000_000, intervalSec: 300, nodes: withUsage, containers: cs, migrations: [], transferRateBps: 20e6 };
}
