import { z } from "zod";
import type { ClusterSnapshot, ProposedMove } from "./cluster-snapshot.js";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";
import { rangedInt, rangedNumber } from "./policy-args.js";
import { iqr, mad, olsOnIndex } from "./overload-stats.js";
import { powerAt } from "./snapshot-index.js";

export const ConsolidationArgs = z
  .object({
    /** Overload test: THR static threshold, MAD/IQR adaptive thresholds, LR local regression. */
    detector: z.enum(["thr", "mad", "iqr", "lr"], { error: 'must be one of "thr", "mad", "iqr", "lr"' }).default("lr"),
    /** THR: utilization threshold; MAD/IQR/LR: safety parameter. */
    parameter: rangedNumber(0, 10, 1.2),
    /** Static threshold used while a host has too little history (CloudSim uses 0.7). */
    fallbackThreshold: rangedNumber(0.1, 1, 0.7),
    /** Samples of history kept per container (CloudSim's PowerVm.HISTORY_LENGTH). */
    historyLength: rangedInt(10, 1000, 30),
    /** Drain underloaded hosts (switch them off) after relieving overloaded ones. */
    consolidate: z.boolean({ error: "must be true or false" }).default(true),
    /**
     * Reproduce CloudSim 3.0.3's double migrations: its underload phase excludes the targets of
     * the overload phase through a list that is still empty at that point
     * (getMigrationMapFromUnderUtilizedHosts passes its own new migrationMap), so a host that just
     * received a container can be drained in the same round and that container is migrated twice
     * (A→B and B→C, both executed and counted). True only to reproduce CloudSim's figures.
     */
    cloudsimDoubleMoves: z.boolean({ error: "must be true or false" }).default(false),
  })
  .strict();
export type ConsolidationArgs = z.infer<typeof ConsolidationArgs>;

/** A generic linear power table for nodes that do not report one (only relative values matter). */
const DEFAULT_POWER = [100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200];

/**
 * Beloglazov & Buyya's dynamic consolidation, with the semantics of CloudSim 3.0.3's
 * PowerVmAllocationPolicyMigrationAbstract.optimizeAllocation:
 *  1. overloaded hosts (THR/MAD/IQR/LR test) shed containers chosen by minimum migration time
 *     (smallest memory first) until the test passes;
 *  2. those containers, largest CPU demand first, go to the host whose power grows least (PABFD),
 *     skipping overloaded hosts and hosts the test would call overloaded after the move;
 *  3. then the least-utilized active host is emptied if ALL its containers fit elsewhere, again
 *     and again until no candidate is left.
 * As in CloudSim, power and "switched off" are judged on the utilization measured at the start of
 * the round (node usage), while fit is judged on the containers' current demand.
 */
export function proposeConsolidation(s: ClusterSnapshot, a: ConsolidationArgs): ProposedMove[] {
  const N = s.nodes.length;
  const M = s.containers.length;
  const L = a.historyLength;
  const total = new Float64Array(N);
  const pe = new Float64Array(N);
  const uStale = new Float64Array(N);
  const usedCpu = new Float64Array(N);
  const up = new Uint8Array(N);
  const power: (readonly number[])[] = [];
  const nodeIdx = new Map<string, number>();
  for (let h = 0; h < N; h++) {
    const n = s.nodes[h]!;
    nodeIdx.set(n.id, h);
    total[h] = n.capacity.cpu;
    pe[h] = n.capacity.cpuPerCore;
    usedCpu[h] = n.usage.cpu;
    let u = n.usage.cpu / n.capacity.cpu;
    if (u > 1 && u < 1.01) u = 1;
    uStale[h] = u;
    up[h] = n.up ? 1 : 0;
    power.push(n.powerWatts && n.powerWatts.length === 11 ? n.powerWatts : DEFAULT_POWER);
  }
  const migrating = new Set(s.migrations.map((m) => m.containerId));
  const demand = new Float64Array(M);
  const ram = new Float64Array(M);
  const inMig = new Uint8Array(M);
  const origin = new Int32Array(M);
  const hist = new Float64Array(M * L); // most recent first, in cpu units
  const histLen = new Int32Array(M);
  const lists: number[][] = Array.from({ length: N }, () => []);
  for (let v = 0; v < M; v++) {
    const c = s.containers[v]!;
    demand[v] = c.demand.cpu;
    ram[v] = c.memorySizeBytes;
    inMig[v] = migrating.has(c.id) ? 1 : 0;
    const h = nodeIdx.get(c.nodeId) ?? -1;
    origin[v] = h;
    if (h >= 0) lists[h]!.push(v);
    const hc = c.history?.cpu ?? [c.demand.cpu];
    const n = Math.min(L, hc.length);
    histLen[v] = n;
    for (let i = 0; i < n; i++) hist[v * L + i] = hc[hc.length - 1 - i]!;
  }

  // Per-container OLS of its 10 most recent samples (LR is linear in the data, so a host's line
  // with one more container is the sum of both lines: O(1) per candidate host).
  const vA = new Float64Array(M);
  const vB = new Float64Array(M);
  const vLen = new Int32Array(M); // trimmed length (last non-zero sample + 1)
  const y10 = new Float64Array(10);
  for (let v = 0; v < M; v++) {
    for (let j = 0; j < 10; j++) y10[j] = 9 - j < histLen[v]! ? hist[v * L + 9 - j]! : 0;
    [vA[v], vB[v]] = olsOnIndex(y10);
    let n = histLen[v]!;
    while (n > 0 && hist[v * L + n - 1] === 0) n--;
    vLen[v] = n;
  }

  // Per-host bookkeeping, updated incrementally as containers are virtually added and removed.
  const reqSum = new Float64Array(N);
  const avail = new Float64Array(N);
  const hHist = new Float64Array(N * L);
  const hA = new Float64Array(N);
  const hB = new Float64Array(N);
  const hLen = new Int32Array(N);
  const hMaxRam = new Float64Array(N).fill(-Infinity);
  // CPU of a host including what was virtually added to it this round. CloudSim's findHostForVm
  // judges power and the "switched off" test on getUtilizationOfCpuMips(host)
  // (PowerVmAllocationPolicyMigrationAbstract), the allocated MIPS of host.getVmList(), which
  // includes the VMs getNewVmPlacement already vmCreate'd on it this round; only host.getPower()
  // (the subtrahend) uses the measured utilization. Summed as CloudSim sums it: measured MIPS first,
  // then each added container in list order (PABFD's ties are decided by this rounding).
  const hostCpu = new Float64Array(N);
  const recomputeHost = (h: number) => {
    let r = 0;
    let hc = usedCpu[h]!;
    let av = total[h]!;
    let over = false;
    let a0 = 0;
    let b0 = 0;
    let len = 0;
    let mr = -Infinity;
    hHist.fill(0, h * L, h * L + L);
    for (const v of lists[h]!) {
      r += demand[v]!;
      if (origin[v] !== h) hc += demand[v]!;
      const capped = Math.min(demand[v]!, pe[h]!);
      if (!over && av >= capped) av -= capped;
      else over = true;
      for (let i = 0; i < histLen[v]!; i++) hHist[h * L + i] = hHist[h * L + i]! + hist[v * L + i]! / total[h]!;
      a0 += vA[v]! / total[h]!;
      b0 += vB[v]! / total[h]!;
      len = Math.max(len, vLen[v]!);
      mr = Math.max(mr, ram[v]!);
    }
    reqSum[h] = r;
    hostCpu[h] = hc;
    avail[h] = over ? 0 : av;
    hA[h] = a0;
    hB[h] = b0;
    hLen[h] = len;
    hMaxRam[h] = mr;
  };
  for (let h = 0; h < N; h++) recomputeHost(h);
  const add = (h: number, v: number) => {
    lists[h]!.push(v);
    reqSum[h] = reqSum[h]! + demand[v]!;
    if (origin[v] !== h) hostCpu[h] = hostCpu[h]! + demand[v]!;
    const capped = Math.min(demand[v]!, pe[h]!);
    avail[h] = avail[h]! >= capped ? avail[h]! - capped : 0;
    for (let i = 0; i < histLen[v]!; i++) hHist[h * L + i] = hHist[h * L + i]! + hist[v * L + i]! / total[h]!;
    hA[h] = hA[h]! + vA[v]! / total[h]!;
    hB[h] = hB[h]! + vB[v]! / total[h]!;
    hLen[h] = Math.max(hLen[h]!, vLen[v]!);
    hMaxRam[h] = Math.max(hMaxRam[h]!, ram[v]!);
  };
  const remove = (h: number, v: number) => {
    const l = lists[h]!;
    const i = l.indexOf(v);
    if (i >= 0) l.splice(i, 1);
    recomputeHost(h);
  };

  const tmp = new Float64Array(L);
  /** Host history (utilization, most recent first) with container `extra` added, zero tail trimmed. */
  const hostHistory = (h: number, extra: number): Float64Array => {
    for (let i = 0; i < L; i++) tmp[i] = hHist[h * L + i]!;
    if (extra >= 0) for (let i = 0; i < histLen[extra]!; i++) tmp[i] = tmp[i]! + hist[extra * L + i]! / total[h]!;
    let n = L;
    while (n > 0 && tmp[n - 1] === 0) n--;
    return tmp.subarray(0, n);
  };
  const requestedUtil = (h: number, extra: number) => (reqSum[h]! + (extra >= 0 ? demand[extra]! : 0)) / total[h]!;
  const fallback = (h: number, extra: number) => requestedUtil(h, extra) > a.fallbackThreshold;
  let lastMetric = NaN;
  /** The overload test; `extra` ≥ 0 tests the host as if that container were added. */
  const overloaded = (h: number, extra = -1): boolean => {
    switch (a.detector) {
      case "thr":
        lastMetric = requestedUtil(h, extra);
        return lastMetric > a.parameter;
      case "mad":
      case "iqr": {
        const data = hostHistory(h, extra);
        if (data.length < 12) return fallback(h, extra);
        const upper = 1 - a.parameter * (a.detector === "mad" ? mad(data) : iqr(data));
        lastMetric = requestedUtil(h, extra);
        return lastMetric > upper;
      }
      case "lr": {
        const len = extra >= 0 ? Math.max(hLen[h]!, vLen[extra]!) : hLen[h]!;
        if (len < 10) return fallback(h, extra);
        const b0 = hA[h]! + (extra >= 0 ? vA[extra]! / total[h]! : 0);
        const b1 = hB[h]! + (extra >= 0 ? vB[extra]! / total[h]! : 0);
        const maxRam = extra >= 0 ? Math.max(hMaxRam[h]!, ram[extra]!) : hMaxRam[h]!;
        const migIntervals = Math.ceil(maxRam / s.transferRateBps / s.intervalSec);
        lastMetric = (b0 + b1 * (10 + migIntervals)) * a.parameter;
        return lastMetric >= 1;
      }
    }
  };
  const staticPower = (h: number) => powerAt(power[h]!, uStale[h]!);
  /** PABFD: the host whose power grows least; -1 when none fits. */
  const findHost = (v: number, excluded: Uint8Array): { h: number; dw: number } => {
    let best = -1;
    let minDiff = Number.MAX_VALUE;
    for (let h = 0; h < N; h++) {
      if (excluded[h] || !up[h]) continue;
      if (pe[h]! < demand[v]! || avail[h]! < demand[v]!) continue;
      // CloudSim's getUtilizationOfCpuMips(host) and getMaxUtilizationAfterAllocation, in its order of operations.
      if (hostCpu[h] !== 0 && overloaded(h, v)) continue;
      const uAfter = (hostCpu[h]! + demand[v]!) / total[h]!;
      if (uAfter > 1) continue;
      const diff = powerAt(power[h]!, uAfter) - staticPower(h);
      if (diff < minDiff) {
        minDiff = diff;
        best = h;
      }
    }
    return { h: best, dw: minDiff };
  };
  const byDemandDesc = (x: number, y: number) => demand[y]! - demand[x]!;
  const label = `${a.detector.toUpperCase()}-MMT-${a.parameter}`;
  const moves = new Map<number, ProposedMove>();
  const move = (v: number, to: number, why: string) => {
    const from = origin[v]!;
    if (to === from) {
      moves.delete(v);
      return;
    }
    const first = moves.get(v);
    const via = a.cloudsimDoubleMoves && first && first.to !== s.nodes[to]!.id ? first.to : undefined;
    // CloudSim appends the second hop to its migration map, so the container lands on its final
    // host in that entry's turn: after every container placed in between. A host's container
    // order decides which of two equal-memory containers MMT sheds later, so keep that order.
    if (via) moves.delete(v);
    moves.set(v, {
      containerId: s.containers[v]!.id,
      from: s.nodes[from]!.id,
      to: s.nodes[to]!.id,
      reason: via ? `${first!.reason}; then ${why}` : why,
      ...(via ? { via } : {}),
    });
  };

  // 1. Overloaded hosts, and what they shed (minimum migration time = smallest memory first).
  const overloadedHosts: number[] = [];
  const overMetric = new Float64Array(N);
  for (let h = 0; h < N; h++) {
    if (up[h] && overloaded(h)) {
      overloadedHosts.push(h);
      overMetric[h] = lastMetric;
    }
  }
  const isOver = new Uint8Array(N);
  for (const h of overloadedHosts) isOver[h] = 1;
  const toMigrate: number[] = [];
  for (const h of overloadedHosts) {
    for (;;) {
      let pick = -1;
      let minRam = Number.MAX_VALUE;
      for (const v of lists[h]!) {
        if (inMig[v]) continue;
        if (ram[v]! < minRam) {
          minRam = ram[v]!;
          pick = v;
        }
      }
      if (pick < 0) break;
      toMigrate.push(pick);
      remove(h, pick);
      if (!overloaded(h)) break;
    }
  }
  // 2. Place them, largest demand first, on the host whose power grows least.
  toMigrate.sort(byDemandDesc);
  for (const v of toMigrate) {
    const { h, dw } = findHost(v, isOver);
    if (h < 0) continue;
    add(h, v);
    const src = s.nodes[origin[v]!]!.id;
    move(
      v,
      h,
      `${label}: ${src} overloaded (${a.detector} metric ${overMetric[origin[v]!]!.toFixed(3)}); smallest-memory container first; least power increase on ${s.nodes[h]!.id} (+${dw.toFixed(1)} W)`,
    );
  }
  if (!a.consolidate) return [...moves.values()];

  // 3. Underloaded hosts: empty the least utilized one if all its containers fit elsewhere.
  const exUnder = new Uint8Array(N);
  const exPlace = new Uint8Array(N);
  let excludedCount = 0;
  for (let h = 0; h < N; h++) {
    if (isOver[h] || uStale[h] === 0 || !up[h]) {
      exUnder[h] = 1;
      exPlace[h] = 1;
      excludedCount++;
    }
  }
  while (excludedCount < N) {
    let under = -1;
    let minU = 1;
    for (let h = 0; h < N; h++) {
      if (exUnder[h]) continue;
      const u = uStale[h]!;
      if (u > 0 && u < minU) {
        const l = lists[h]!;
        if (l.length === 0 || l.every((v) => inMig[v])) continue;
        minU = u;
        under = h;
      }
    }
    if (under < 0) break;
    exUnder[under] = 1;
    exPlace[under] = 1;
    excludedCount++;
    const vms = lists[under]!.filter((v) => !inMig[v]).sort(byDemandDesc);
    const placed: { v: number; h: number; dw: number }[] = [];
    let ok = true;
    for (const v of vms) {
      const { h, dw } = findHost(v, exPlace);
      if (h < 0) {
        ok = false;
        break;
      }
      add(h, v);
      placed.push({ v, h, dw });
    }
    if (!ok) {
      for (const p of placed) remove(p.h, p.v);
      continue;
    }
    for (const p of placed) {
      if (!exUnder[p.h]) {
        exUnder[p.h] = 1;
        excludedCount++;
      }
      move(
        p.v,
        p.h,
        `${label}: ${s.nodes[under]!.id} underloaded (${(minU * 100).toFixed(1)}% CPU) and all its containers fit elsewhere: drain it; least power increase on ${s.nodes[p.h]!.id} (+${p.dw.toFixed(1)} W)`,
      );
    }
  }
  return [...moves.values()];
}

export const consolidationPolicy: PolicyPlugin<ConsolidationArgs> = {
  name: "consolidation",
  description: "Beloglazov-Buyya energy-aware consolidation (THR/MAD/IQR/LR overload test, MMT, PABFD)",
  argsSchema: ConsolidationArgs,
  create(args): PlacementPolicy {
    return { name: `consolidation-${args.detector}`, propose: (s) => proposeConsolidation(s, args) };
  },
};
