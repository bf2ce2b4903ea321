import { z } from "zod";
import type { ClusterSnapshot, ContainerSnapshot, ProposedMove } from "./cluster-snapshot.js";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";
import { rangedInt, rangedNumber } from "./policy-args.js";
import { fmtPct, indexSnapshot } from "./snapshot-index.js";

export const ThresholdArgs = z
  .object({
    /** A node whose CPU demand exceeds this fraction of its capacity now is a hotspot. */
    cpuThreshold: rangedNumber(0.1, 1, 0.9),
    memThreshold: rangedNumber(0.1, 1, 0.9),
    /** Containers shed per hot node per round. */
    maxMovesPerNode: rangedInt(1, 100, 1),
  })
  .strict();
export type ThresholdArgs = z.infer<typeof ThresholdArgs>;

/**
 * Reactive threshold policy: a node over its CPU or memory threshold NOW sheds its largest
 * container (in the dimension that is over) to the least-loaded up node where it fits under both
 * thresholds. No forecasting, no cost model: the classic baseline.
 */
export function proposeThreshold(s: ClusterSnapshot, a: ThresholdArgs): ProposedMove[] {
  const ix = indexSnapshot(s);
  const n = s.nodes.length;
  const cpu = new Float64Array(n);
  const mem = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (const c of ix.byNode[i]!) {
      cpu[i] = cpu[i]! + c.demand.cpu;
      mem[i] = mem[i]! + c.demand.memoryBytes;
    }
    cpu[i] = cpu[i]! + ix.incomingCpu[i]!;
    mem[i] = mem[i]! + ix.incomingMem[i]!;
  }
  const cu = (i: number) => cpu[i]! / s.nodes[i]!.capacity.cpu;
  const mu = (i: number) => (s.nodes[i]!.capacity.memoryBytes > 0 ? mem[i]! / s.nodes[i]!.capacity.memoryBytes : 0);
  const over = (i: number) => cu(i) > a.cpuThreshold || mu(i) > a.memThreshold;
  const hot = [...Array(n).keys()].filter((i) => s.nodes[i]!.up && over(i));
  // Worst first, so the scarce room on cool nodes goes where it matters most.
  hot.sort((x, y) => Math.max(cu(y), mu(y)) - Math.max(cu(x), mu(x)));
  const moves: ProposedMove[] = [];
  const moved = new Set<string>();
  for (const h of hot) {
    for (let k = 0; k < a.maxMovesPerNode && over(h); k++) {
      const cpuOver = cu(h) > a.cpuThreshold;
      const size = (c: ContainerSnapshot) => (cpuOver ? c.demand.cpu : c.demand.memoryBytes);
      const candidates = ix.byNode[h]!.filter((c) => !ix.migrating.has(c.id) && !moved.has(c.id)).sort((x, y) => size(y) - size(x));
      let done = false;
      for (const c of candidates) {
        let best = -1;
        let bestLoad = Infinity;
        for (let d = 0; d < n; d++) {
          const node = s.nodes[d]!;
          if (d === h || !node.up) continue;
          const nc = (cpu[d]! + c.demand.cpu) / node.capacity.cpu;
          const nm = node.capacity.memoryBytes > 0 ? (mem[d]! + c.demand.memoryBytes) / node.capacity.memoryBytes : 0;
          if (nc > a.cpuThreshold || nm > a.memThreshold || c.demand.cpu > node.capacity.cpuPerCore) continue;
          const load = Math.max(cu(d), mu(d));
          if (load < bestLoad) {
            bestLoad = load;
            best = d;
          }
        }
        if (best < 0) continue;
        const before = cpuOver ? `CPU ${fmtPct(cu(h))} > ${fmtPct(a.cpuThreshold)}` : `memory ${fmtPct(mu(h))} > ${fmtPct(a.memThreshold)}`;
        cpu[h] = cpu[h]! - c.demand.cpu;
        mem[h] = mem[h]! - c.demand.memoryBytes;
        cpu[best] = cpu[best]! + c.demand.cpu;
        mem[best] = mem[best]! + c.demand.memoryBytes;
        moved.add(c.id);
        moves.push({
          containerId: c.id,
          from: s.nodes[h]!.id,
          to: s.nodes[best]!.id,
          reason: `threshold: ${s.nodes[h]!.id} ${before} now; shed its largest container to the least-loaded node that fits (${s.nodes[best]!.id} → CPU ${fmtPct(cu(best))})`,
        });
        done = true;
        break;
      }
      if (!done) break;
    }
  }
  return moves;
}

export const thresholdPolicy: PolicyPlugin<ThresholdArgs> = {
  name: "threshold",
  description: "reactive: a node over its CPU/memory threshold sheds its largest container",
  argsSchema: ThresholdArgs,
  create(args): PlacementPolicy {
    return { name: "threshold", propose: (s) => proposeThreshold(s, args) };
  },
};
