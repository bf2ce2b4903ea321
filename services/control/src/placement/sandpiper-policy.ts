import { z } from "zod";
import type { ClusterSnapshot, ProposedMove } from "./cluster-snapshot.js";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";
import { rangedInt, rangedNumber } from "./policy-args.js";
import { fmtPct, indexSnapshot } from "./snapshot-index.js";

export const SandpiperArgs = z
  .object({
    cpuThreshold: rangedNumber(0.1, 1, 0.75),
    memThreshold: rangedNumber(0.1, 1, 0.75),
    netThreshold: rangedNumber(0.1, 1, 0.75),
    maxMovesPerNode: rangedInt(1, 100, 3),
  })
  .strict();
export type SandpiperArgs = z.infer<typeof SandpiperArgs>;

/** Sandpiper's volume; utilizations are capped just below 1 so a saturated resource stays finite. */
export function volume(cpu: number, mem: number, net: number): number {
  const c = (x: number) => 1 - Math.min(0.99, Math.max(0, x));
  return 1 / (c(cpu) * c(mem) * c(net));
}

/**
 * Sandpiper (NSDI'07): hotspots are nodes over any threshold; nodes are handled in decreasing
 * volume, and from each the containers with the highest volume-to-size ratio (size = memory to
 * copy) move first to the least-volume node that stays under every threshold, until the node is
 * no longer hot.
 */
export function proposeSandpiper(s: ClusterSnapshot, a: SandpiperArgs): ProposedMove[] {
  const ix = indexSnapshot(s);
  const n = s.nodes.length;
  const cpu = new Float64Array(n);
  const mem = new Float64Array(n);
  const net = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (const c of ix.byNode[i]!) {
      cpu[i] = cpu[i]! + c.demand.cpu;
      mem[i] = mem[i]! + c.demand.memoryBytes;
      net[i] = net[i]! + c.demand.netBps;
    }
    cpu[i] = cpu[i]! + ix.incomingCpu[i]!;
    mem[i] = mem[i]! + ix.incomingMem[i]!;
  }
  const frac = (v: number, cap: number) => (cap > 0 ? v / cap : 0);
  const util = (i: number, dc = 0, dm = 0, dn = 0) => {
    const cap = s.nodes[i]!.capacity;
    return [frac(cpu[i]! + dc, cap.cpu), frac(mem[i]! + dm, cap.memoryBytes), frac(net[i]! + dn, cap.netBps)] as const;
  };
  const hotAt = (u: readonly [number, number, number]) => u[0] > a.cpuThreshold || u[1] > a.memThreshold || u[2] > a.netThreshold;
  const vol = (i: number) => volume(...util(i));
  const hot = [...Array(n).keys()].filter((i) => s.nodes[i]!.up && hotAt(util(i))).sort((x, y) => vol(y) - vol(x));
  const moves: ProposedMove[] = [];
  for (const h of hot) {
    const cap = s.nodes[h]!.capacity;
    const vsr = new Map<string, number>();
    for (const c of ix.byNode[h]!) {
      const v = volume(frac(c.demand.cpu, cap.cpu), frac(c.demand.memoryBytes, cap.memoryBytes), frac(c.demand.netBps, cap.netBps));
      vsr.set(c.id, v / Math.max(1, c.memorySizeBytes));
    }
    const candidates = ix.byNode[h]!.filter((c) => !ix.migrating.has(c.id)).sort((x, y) => vsr.get(y.id)! - vsr.get(x.id)!);
    let k = 0;
    for (const c of candidates) {
      if (k >= a.maxMovesPerNode || !hotAt(util(h))) break;
      let best = -1;
      let bestVol = Infinity;
      for (let d = 0; d < n; d++) {
        const node = s.nodes[d]!;
        if (d === h || !node.up || c.demand.cpu > node.capacity.cpuPerCore) continue;
        const after = util(d, c.demand.cpu, c.demand.memoryBytes, c.demand.netBps);
        if (hotAt(after)) continue;
        const v = vol(d);
        if (v < bestVol) {
          bestVol = v;
          best = d;
        }
      }
      if (best < 0) continue;
      const why = `sandpiper: ${s.nodes[h]!.id} is a hotspot (volume ${vol(h).toFixed(2)}, CPU ${fmtPct(util(h)[0])}); moving its highest volume/size container to the least-volume node ${s.nodes[best]!.id} (volume ${bestVol.toFixed(2)})`;
      cpu[h] = cpu[h]! - c.demand.cpu;
      mem[h] = mem[h]! - c.demand.memoryBytes;
      net[h] = net[h]! - c.demand.netBps;
      cpu[best] = cpu[best]! + c.demand.cpu;
      mem[best] = mem[best]! + c.demand.memoryBytes;
      net[best] = net[best]! + c.demand.netBps;
      moves.push({ containerId: c.id, from: s.nodes[h]!.id, to: s.nodes[best]!.id, reason: why });
      k++;
    }
  }
  return moves;
}

export const sandpiperPolicy: PolicyPlugin<SandpiperArgs> = {
  name: "sandpiper",
  description: "Sandpiper volume: hotspots shed their highest volume/size containers",
  argsSchema: SandpiperArgs,
  create(args): PlacementPolicy {
    return { name: "sandpiper", propose: (s) => proposeSandpiper(s, args) };
  },
};
