import { z } from "zod";
import type { ClusterSnapshot, ContainerSnapshot, ProposedMove } from "./cluster-snapshot.js";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";
import { rangedInt, rangedNumber } from "./policy-args.js";
import { fmtPct, indexSnapshot, migrationSeconds, powerAt } from "./snapshot-index.js";

export const ForecastArgs = z
  .object({
    /** Intervals ahead over which expected overload is weighed against a migration's own cost. */
    horizon: rangedInt(1, 288, 6),
    /** Safety margin, in standard deviations of the predicted load, a destination keeps under `target`. */
    z: rangedNumber(0, 5, 1),
    /**
     * Fraction of CPU capacity above which demand goes unserved (overload). Values far below 1
     * model nodes that share their cores with other work (the local cluster's emulated nodes).
     */
    overloadAt: rangedNumber(0.05, 1, 1),
    /** A destination's load (now, and predicted + z·σ) must stay under this fraction of its capacity. */
    target: rangedNumber(0.05, 1, 0.7),
    /** A node whose load (now, and predicted + z·σ) is under this fraction is drained (0 = never drain). */
    drainBelow: rangedNumber(0, 1, 0),
    /** Predicted overload must be worth costFactor × a move's own cost (overload happening now: 1 ×). */
    costFactor: rangedNumber(1, 1000, 3),
    /**
     * Weight of the CPU a container loses while it migrates, in host-seconds per core-second:
     * a move costs T × (1 + lossWeight × demand / core) (0 = only its duration counts).
     */
    lossWeight: rangedNumber(0, 1000, 0),
    /** Containers moved less than this ago are not drained again; their nodes are not drained. */
    holdSec: rangedNumber(0, 7 * 86400, 600),
    /** History samples used to estimate a container's volatility and spread. */
    errorWindow: rangedInt(2, 10000, 30),
  })
  .strict();
export type ForecastArgs = z.infer<typeof ForecastArgs>;

const SQRT2 = Math.SQRT2;
/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf; error < 1.5e-7). */
export function phiCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** P(X > cap) for X ~ N(mu, variance); a step function when the variance is 0. */
export function overloadProbability(mu: number, variance: number, cap: number): number {
  if (variance <= 1e-9) return mu > cap ? 1 : 0;
  return 1 - phiCdf((cap - mu) / Math.sqrt(variance));
}

/** What the policy expects of one container. CPU in the snapshot's unit, variances in unit². */
export interface ContainerOutlook {
  /** Demand now (the current sample). */
  readonly now: number;
  /** Expected demand one interval ahead. */
  readonly near: number;
  /** Expected demand further out (the forecast's last step). */
  readonly far: number;
  /** Variance of a one-interval change (squared RMS of recent one-step changes). */
  readonly nearVar: number;
  /** Variance further out: the larger of nearVar and the spread of recent samples. */
  readonly farVar: number;
  /** Highest demand seen recently or predicted: a destination core must hold it. */
  readonly peak: number;
}

/**
 * A container's outlook from its forecast (if any) and its recent history. The one-step
 * volatility is what the next sample typically adds to the last one (robust to trends, needs no
 * model); the spread of recent samples bounds how far it wanders over hours.
 */
export function containerOutlook(c: ContainerSnapshot, errorWindow: number): ContainerOutlook {
  const now = c.demand.cpu;
  const f = c.forecast?.cpu;
  const h = c.history?.cpu;
  let nearVar = 0;
  let spread = 0;
  let mean = now;
  let peak = now;
  if (h && h.length >= 2) {
    const from = Math.max(0, h.length - errorWindow);
    let sq = 0;
    let sum = 0;
    let sum2 = 0;
    for (let i = from; i < h.length; i++) {
      const x = h[i]!;
      if (i > from) sq += (x - h[i - 1]!) ** 2;
      sum += x;
      sum2 += x * x;
      if (x > peak) peak = x;
    }
    const n = h.length - from;
    nearVar = sq / Math.max(1, n - 1);
    mean = sum / n;
    spread = Math.max(0, sum2 / n - mean * mean);
  }
  // Demand is mostly noise around a level (PlanetLab: the mean of the last 30 samples predicts the
  // next one better than EWMA does): the next interval's forecast is shrunk toward the recent mean
  // by up to half, as far as enough history backs that mean; hours ahead, half and half.
  const n = h ? Math.min(h.length, errorWindow) : 0;
  const w = 0.5 * Math.min(1, Math.max(0, n - 1) / Math.max(1, errorWindow - 1));
  const near = f && f.length ? (1 - w) * f[0]! + w * mean : mean;
  const far = f && f.length ? (f[f.length - 1]! + mean) / 2 : mean;
  return { now, near, far, nearVar, farVar: Math.max(nearVar, spread), peak: Math.max(peak, near, far) };
}

/**
 * Herd's proactive policy. It weighs, in overload host-seconds, what a move avoids against what it
 * costs: a node's load is a sum of its containers' outlooks (independent, variances add), and its
 * expected overload over the next `horizon` intervals is P(load > capacity) now, one interval
 * ahead and further out (load = forecast, σ from recent volatility and spread). A migration costs
 * its own duration twice over: the destination counts as overloaded while the container copies,
 * and the source keeps carrying it until the copy ends. So a node that is overloaded now sheds a
 * container only when that beats waiting, a node predicted to overload sheds one only when the
 * overload is likely and lasting (a transient spike does not pay for a move), and the container
 * picked is the one whose move avoids the most net overload (small memory = short migration).
 * Destinations must keep `target` even at predicted + z·σ, so no new hotspot is made. With
 * `drainBelow` > 0 nodes predicted to stay light are emptied when everything fits elsewhere, onto
 * the already-busy nodes with the lowest power increase. Hysteresis: the gap between `target` and
 * `overloadAt`/`drainBelow`, and `holdSec` on recently moved containers.
 */
export function proposeForecast(s: ClusterSnapshot, a: ForecastArgs): ProposedMove[] {
  const ix = indexSnapshot(s);
  const N = s.nodes.length;
  const I = s.intervalSec;
  // Sums per node: load now, one interval ahead, further out; their variances; memory; count.
  const L0 = new Float64Array(N);
  const M1 = new Float64Array(N);
  const MF = new Float64Array(N);
  const V1 = new Float64Array(N);
  const VF = new Float64Array(N);
  const mem = new Float64Array(N);
  const count = new Int32Array(N);
  const recent = new Uint8Array(N);
  const minMig = new Float64Array(N).fill(Infinity);
  const look = new Map<string, ContainerOutlook>();
  const migSec = (c: ContainerSnapshot) => migrationSeconds(c, s.transferRateBps);
  /** Adds (sign 1) or removes (sign −1) one container's outlook on host h; variances never go below 0. */
  const account = (h: number, c: ContainerSnapshot, o: ReturnType<typeof containerOutlook>, sign: 1 | -1) => {
    L0[h] = L0[h]! + sign * o.now;
    M1[h] = M1[h]! + sign * o.near;
    MF[h] = MF[h]! + sign * o.far;
    V1[h] = Math.max(0, V1[h]! + sign * o.nearVar);
    VF[h] = Math.max(0, VF[h]! + sign * o.farVar);
    mem[h] = mem[h]! + sign * c.demand.memoryBytes;
    count[h] = count[h]! + sign;
  };
  for (let h = 0; h < N; h++) {
    for (const c of ix.byNode[h]!) {
      const o = containerOutlook(c, a.errorWindow);
      look.set(c.id, o);
      account(h, c, o, 1);
      if (c.lastMigratedAt !== undefined && s.now - c.lastMigratedAt < a.holdSec * 1000) recent[h] = 1;
      if (!ix.migrating.has(c.id)) minMig[h] = Math.min(minMig[h]!, migSec(c));
    }
    // Containers arriving count fully on their destination.
    L0[h] = L0[h]! + ix.incomingCpu[h]!;
    M1[h] = M1[h]! + ix.incomingCpu[h]!;
    MF[h] = MF[h]! + ix.incomingCpu[h]!;
    mem[h] = mem[h]! + ix.incomingMem[h]!;
  }
  const cap = (h: number) => s.nodes[h]!.capacity.cpu;
  const far = Math.max(0, a.horizon - 1);
  /**
   * Expected overload host-seconds of node h over the horizon for the given sums: the current
   * interval is known (load now vs capacity), later ones are predicted and discounted by
   * `costFactor`, so a move must avoid costFactor × its cost in predicted overload but only its
   * cost in overload that is already happening. `stay` is the fraction of the current interval
   * during which a container being moved off still loads the node (load `l0Stay`).
   */
  const risk = (h: number, l0: number, m1: number, v1: number, mf: number, vf: number, stay = 0, l0Stay = l0): number => {
    const c = a.overloadAt * cap(h);
    const known = (1 - stay) * (l0 > c ? 1 : 0) + stay * (l0Stay > c ? 1 : 0);
    const predicted = overloadProbability(m1, v1, c) + (far > 0 ? far * overloadProbability(mf, vf, c) : 0);
    return I * (known + predicted / Math.max(1, a.costFactor));
  };
  const riskNow = (h: number) => risk(h, L0[h]!, M1[h]!, V1[h]!, MF[h]!, VF[h]!);
  const safeLoad = (h: number, o?: ContainerOutlook) => {
    const l0 = L0[h]! + (o ? o.now : 0);
    const m1 = M1[h]! + (o ? o.near : 0) + a.z * Math.sqrt(V1[h]! + (o ? o.nearVar : 0));
    const mf = MF[h]! + (o ? o.far : 0) + a.z * Math.sqrt(VF[h]! + (o ? o.farVar : 0));
    return Math.max(l0, m1, mf);
  };
  const DEFAULT_POWER = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  const watts = (h: number, load: number) => powerAt(s.nodes[h]!.powerWatts ?? DEFAULT_POWER, load / cap(h));
  const draining = new Uint8Array(N);
  const moved = new Set<string>();
  const kinds = new Map<string, number>();
  const kind = Int32Array.from(s.nodes, (n) => {
    const key = `${n.capacity.cpu}|${n.capacity.cpuPerCore}|${n.capacity.memoryBytes}|${n.powerWatts?.join(",") ?? ""}`;
    if (!kinds.has(key)) kinds.set(key, kinds.size);
    return kinds.get(key)!;
  });
  const seenKind = new Uint8Array(kinds.size);
  const packing = a.drainBelow > 0;

  /**
   * Best destination: among up nodes that stay under `target` (now and predicted + z·σ) with the
   * container, the lowest power increase when consolidating (busy nodes before empty ones), the
   * most headroom otherwise (so the destination is not the next hotspot).
   */
  const destination = (c: ContainerSnapshot, from: number, allowEmpty: boolean, limitFrac = a.target): number => {
    const o = look.get(c.id)!;
    let best = -1;
    let bestScore = Infinity;
    let bestEmpty = -1;
    let bestEmptyScore = Infinity;
    seenKind.fill(0);
    for (let d = 0; d < N; d++) {
      const node = s.nodes[d]!;
      if (d === from || !node.up || draining[d]) continue;
      // Idle nodes of one kind are interchangeable: look at the first of each kind only.
      if (count[d] === 0 && L0[d] === 0 && mem[d] === 0) {
        if (!allowEmpty || seenKind[kind[d]!]) continue;
        seenKind[kind[d]!] = 1;
      }
      if (o.peak > node.capacity.cpuPerCore) continue;
      const limit = limitFrac * node.capacity.cpu;
      // Cheap necessary conditions before the square roots.
      if (L0[d]! + o.now > limit || M1[d]! + o.near > limit || MF[d]! + o.far > limit) continue;
      if (node.capacity.memoryBytes > 0 && mem[d]! + c.demand.memoryBytes > node.capacity.memoryBytes) continue;
      const after = safeLoad(d, o);
      if (after > limit) continue;
      if (count[d] === 0) {
        if (!allowEmpty) continue;
        // Switching a node on: the one that serves a unit of CPU with the fewest watts when full.
        const w = watts(d, node.capacity.cpu) / node.capacity.cpu;
        if (w < bestEmptyScore) {
          bestEmptyScore = w;
          bestEmpty = d;
        }
        continue;
      }
      const score = packing ? watts(d, MF[d]! + o.far) - watts(d, MF[d]!) : after / node.capacity.cpu;
      if (score < bestScore) {
        bestScore = score;
        best = d;
      }
    }
    return best >= 0 ? best : bestEmpty;
  };
  const apply = (c: ContainerSnapshot, from: number, to: number) => {
    const o = look.get(c.id)!;
    account(from, c, o, -1);
    account(to, c, o, 1);
    moved.add(c.id);
  };
  /** What a move costs, in overload host-seconds: its duration, plus the CPU the container loses. */
  const moveCost = (c: ContainerSnapshot, h: number) => migSec(c) * (1 + (a.lossWeight * c.demand.cpu) / s.nodes[h]!.capacity.cpuPerCore);
  /** Net overload host-seconds avoided by moving c from h to d (negative: not worth it). */
  const netGain = (c: ContainerSnapshot, h: number, d: number): { net: number; src: number; dst: number; cost: number } => {
    const o = look.get(c.id)!;
    const T = migSec(c);
    const stay = Math.min(1, T / I);
    const srcBefore = riskNow(h);
    const srcAfter = risk(h, L0[h]! - o.now, M1[h]! - o.near, Math.max(0, V1[h]! - o.nearVar), MF[h]! - o.far, Math.max(0, VF[h]! - o.farVar), stay, L0[h]!);
    const dstBefore = riskNow(d);
    const dstAfter = risk(d, L0[d]! + o.now, M1[d]! + o.near, V1[d]! + o.nearVar, MF[d]! + o.far, VF[d]! + o.farVar);
    const cost = moveCost(c, h);
    return { net: srcBefore - srcAfter - (dstAfter - dstBefore) - cost, src: srcBefore - srcAfter, dst: dstAfter - dstBefore, cost };
  };
  const moves: ProposedMove[] = [];

  // 1. Relief: nodes whose expected overload could pay for at least their cheapest migration.
  const riskAtStart = Float64Array.from({ length: N }, (_, h) => (s.nodes[h]!.up && count[h]! > 0 ? riskNow(h) : 0));
  const risky = [...Array(N).keys()].filter((h) => riskAtStart[h]! > minMig[h]!);
  risky.sort((x, y) => riskAtStart[y]! - riskAtStart[x]!);
  for (const h of risky) {
    for (;;) {
      let pick: ContainerSnapshot | undefined;
      let pickTo = -1;
      let pickGain = { net: 0, src: 0, dst: 0, cost: 0 };
      const overNow = L0[h]! > a.overloadAt * cap(h);
      for (const c of ix.byNode[h]!) {
        if (ix.migrating.has(c.id) || moved.has(c.id)) continue;
        // A container moved recently stays put unless its node is overloaded now (no ping-pong).
        if (!overNow && c.lastMigratedAt !== undefined && s.now - c.lastMigratedAt < a.holdSec * 1000) continue;
        // Upper bound first: the move cannot avoid more than the node's whole risk.
        if (riskNow(h) - migSec(c) <= pickGain.net) continue;
        // Overloaded now and no node keeps `target`: any node that stays under capacity will do,
        // if the net gain (its own added risk included) says so.
        let to = destination(c, h, true);
        if (to < 0 && overNow) to = destination(c, h, true, a.overloadAt);
        if (to < 0) continue;
        const g = netGain(c, h, to);
        if (g.net <= pickGain.net) continue;
        pick = c;
        pickTo = to;
        pickGain = g;
      }
      if (!pick) break;
      const uNow = L0[h]! / cap(h);
      const uNear = M1[h]! / cap(h);
      const uFar = MF[h]! / cap(h);
      apply(pick, h, pickTo);
      moves.push({
        containerId: pick.id,
        from: s.nodes[h]!.id,
        to: s.nodes[pickTo]!.id,
        reason:
          `forecast: ${s.nodes[h]!.id} uses ${fmtPct(uNow)} of its CPU now, predicted ${fmtPct(uNear)} of CPU next interval and ${fmtPct(uFar)} further out; ` +
          `moving ${pick.id} avoids ${pickGain.src.toFixed(0)} s of expected overload over ${a.horizon} intervals ` +
          `(${pickGain.dst.toFixed(0)} s added on ${s.nodes[pickTo]!.id}, ${pickGain.cost.toFixed(0)} s for the migration itself); ` +
          `${s.nodes[pickTo]!.id} stays under ${fmtPct(a.target)}`,
      });
    }
  }

  // 2. Consolidation: empty nodes predicted to stay lightly loaded, if everything fits elsewhere.
  if (packing) {
    const candidates = [...Array(N).keys()].filter(
      (h) =>
        s.nodes[h]!.up &&
        count[h]! > 0 &&
        !recent[h] &&
        safeLoad(h) < a.drainBelow * cap(h) &&
        !ix.byNode[h]!.some((c) => moved.has(c.id) || ix.migrating.has(c.id)),
    );
    // Best first: the most watts saved (what the node draws beyond what its load would cost on
    // the most efficient node when full) per second of migration needed to empty it.
    let bestWattsPerCpu = Infinity;
    for (let h = 0; h < N; h++) if (s.nodes[h]!.up) bestWattsPerCpu = Math.min(bestWattsPerCpu, watts(h, cap(h)) / cap(h));
    const drainScore = new Float64Array(N);
    for (const h of candidates) {
      let cost = 0;
      for (const c of ix.byNode[h]!) cost += moveCost(c, h);
      drainScore[h] = (watts(h, MF[h]!) - MF[h]! * bestWattsPerCpu) / Math.max(1e-9, cost);
    }
    candidates.sort((x, y) => drainScore[y]! - drainScore[x]!);
    const receiving = new Uint8Array(N);
    for (const m of moves) receiving[ix.nodeIdx.get(m.to)!] = 1;
    for (const h of candidates) {
      if (receiving[h] || count[h] === 0) continue;
      draining[h] = 1;
      const plan: { c: ContainerSnapshot; to: number }[] = [];
      const list = [...ix.byNode[h]!].sort((x, y) => look.get(y.id)!.far - look.get(x.id)!.far);
      let ok = true;
      for (const c of list) {
        const to = destination(c, h, false);
        if (to < 0) {
          ok = false;
          break;
        }
        apply(c, h, to);
        plan.push({ c, to });
      }
      if (!ok) {
        for (const p of plan.reverse()) {
          apply(p.c, p.to, h);
          moved.delete(p.c.id);
        }
        draining[h] = 0;
        continue;
      }
      for (const p of plan) {
        receiving[p.to] = 1;
        moves.push({
          containerId: p.c.id,
          from: s.nodes[h]!.id,
          to: s.nodes[p.to]!.id,
          reason: `forecast: ${s.nodes[h]!.id} predicted under ${fmtPct(a.drainBelow)} of CPU and all its containers fit elsewhere under ${fmtPct(a.target)}: drain it to save its idle power`,
        });
      }
    }
  }
  return moves;
}

export const forecastPolicy: PolicyPlugin<ForecastArgs> = {
  name: "forecast",
  description: "proactive: moves only when the expected overload it avoids beats the migration's own cost; drains lightly loaded nodes",
  argsSchema: ForecastArgs,
  create(args): PlacementPolicy {
    return { name: "forecast", propose: (s) => proposeForecast(s, args) };
  },
};
