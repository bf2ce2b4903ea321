import { z } from "zod";
import type { ClusterSnapshot, ContainerSnapshot, ProposedMove } from "./cluster-snapshot.js";
import type { PlacementPolicy, PolicyPlugin } from "./placement-policy.js";
import { rangedInt, rangedNumber } from "./policy-args.js";
import { fmtPct, indexSnapshot, migrationSeconds, powerAt } from "./snapshot-index.js";

export const ForecastArgs = z
  .object({
    /** Intervals ahead the policy protects (forecast values used, beyond the current sample). */
    horizon: rangedInt(1, 48, 2),
    /** Safety margin in standard deviations of the forecast uncertainty. */
    z: rangedNumber(0, 5, 1),
    /** Fraction of CPU capacity above which demand goes unserved (overload). */
    overloadAt: rangedNumber(0.5, 1, 1),
    /** A destination's predicted peak + z·σ must stay under this fraction of its capacity. */
    target: rangedNumber(0.3, 1, 0.8),
    /** A node whose predicted peak + z·σ is under this fraction is drained (0 = never drain). */
    drainBelow: rangedNumber(0, 1, 0),
    /** A move must avoid more than costFactor × its own cost (CPU-seconds). */
    costFactor: rangedNumber(0, 1000, 10),
    /** Fraction of a container's CPU lost while it migrates. */
    degradation: rangedNumber(0, 1, 0.1),
    /** Containers moved less than this ago are not drained again; their nodes are not drained. */
    holdSec: rangedNumber(0, 7 * 86400, 600),
    /** History samples used to estimate a container's forecast uncertainty. */
    errorWindow: rangedInt(2, 10000, 12),
  })
  .strict();
export type ForecastArgs = z.infer<typeof ForecastArgs>;

const SQRT2 = Math.SQRT2;
/** Standard normal CDF (Abramowitz-Stegun 7.1.26 erf; error < 1.5e-7). */
function phiCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(x * x) / 2);
  return x >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

/** Expected unserved demand E[(X − cap)+] for X ~ N(mu, sigma²). */
export function expectedExcess(mu: number, sigma: number, cap: number): number {
  if (sigma <= 1e-12) return Math.max(0, mu - cap);
  const d = (mu - cap) / sigma;
  return sigma * (Math.exp(-(d * d) / 2) / Math.sqrt(2 * Math.PI)) + (mu - cap) * phiCdf(d);
}

/** A container's predicted peak over [now, now + horizon] and its uncertainty (σ). */
export function containerOutlook(c: ContainerSnapshot, horizon: number, errorWindow: number): { peak: number; sigma: number } {
  // With a forecast the outlook is the forecast alone (the current sample is already in it);
  // without one, the current demand is the best guess.
  const f = c.forecast?.cpu;
  let peak = f && f.length ? 0 : c.demand.cpu;
  if (f) for (let i = 0; i < Math.min(horizon, f.length); i++) peak = Math.max(peak, f[i]!);
  // Volatility of one-step changes: how far the next sample typically lands from the last one,
  // i.e. the error a forecast should expect; robust to trends, needs no model.
  const h = c.history?.cpu;
  let sigma = 0;
  if (h && h.length >= 2) {
    const from = Math.max(1, h.length - errorWindow);
    let sq = 0;
    for (let i = from; i < h.length; i++) sq += (h[i]! - h[i - 1]!) ** 2;
    sigma = Math.sqrt(sq / (h.length - from));
  }
  return { peak, sigma };
}

/**
 * Herd's proactive policy. Each container's peak demand over the next `horizon` intervals comes
 * from its forecast; its uncertainty from its recent volatility; a node's load is the sum (σ added
 * in quadrature). A node whose expected overload is positive sheds the container whose move avoids
 * the most expected unserved CPU-seconds per CPU-second the migration itself costs (memory /
 * measured transfer rate × degradation), and only if the gain beats the cost. Destinations must
 * stay under `target` even at peak + z·σ, and the lowest power increase wins. Nodes predicted to
 * stay under `drainBelow` are emptied when all their containers fit elsewhere. Hysteresis: the
 * gap between `target` and `overloadAt`/`drainBelow`, and `holdSec` on recently moved containers.
 */
export function proposeForecast(s: ClusterSnapshot, a: ForecastArgs): ProposedMove[] {
  const ix = indexSnapshot(s);
  const N = s.nodes.length;
  const mu = new Float64Array(N);
  const var_ = new Float64Array(N);
  const mem = new Float64Array(N);
  const count = new Int32Array(N);
  const recent = new Uint8Array(N);
  const look = new Map<string, { peak: number; sigma: number }>();
  for (let h = 0; h < N; h++) {
    for (const c of ix.byNode[h]!) {
      const o = containerOutlook(c, a.horizon, a.errorWindow);
      look.set(c.id, o);
      mu[h] = mu[h]! + (o.peak);
      var_[h] = var_[h]! + (o.sigma * o.sigma);
      mem[h] = mem[h]! + (c.demand.memoryBytes);
      count[h] = count[h]! + 1;
      if (c.lastMigratedAt !== undefined && s.now - c.lastMigratedAt < a.holdSec * 1000) recent[h] = 1;
    }
    mu[h] = mu[h]! + (ix.incomingCpu[h]!);
    mem[h] = mem[h]! + (ix.incomingMem[h]!);
  }
  const cap = (h: number) => s.nodes[h]!.capacity.cpu;
  const safeLoad = (h: number) => mu[h]! + a.z * Math.sqrt(var_[h]!);
  const horizonSec = (a.horizon + 1) * s.intervalSec;
  const risk = (h: number, m = mu[h]!, v = var_[h]!) => expectedExcess(m, Math.sqrt(Math.max(0, v)), a.overloadAt * cap(h)) * horizonSec;
  const watts = (h: number, load: number) => powerAt(s.nodes[h]!.powerWatts ?? [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], load / cap(h));
  const draining = new Uint8Array(N);
  const moved = new Set<string>();

  /** Best destination for a container: lowest power increase among nodes that stay safe. */
  const destination = (c: ContainerSnapshot, from: number, allowEmpty: boolean): number => {
    const o = look.get(c.id)!;
    let best = -1;
    let bestCost = Infinity;
    let bestEmpty = -1;
    let bestEmptyCost = Infinity;
    for (let d = 0; d < N; d++) {
      const node = s.nodes[d]!;
      if (d === from || !node.up || draining[d]) continue;
      if (o.peak > node.capacity.cpuPerCore) continue;
      if (node.capacity.memoryBytes > 0 && mem[d]! + c.demand.memoryBytes > node.capacity.memoryBytes) continue;
      const after = mu[d]! + o.peak + a.z * Math.sqrt(var_[d]! + o.sigma * o.sigma);
      if (after > a.target * cap(d)) continue;
      if (count[d] === 0) {
        if (!allowEmpty) continue;
        const w = watts(d, mu[d]! + o.peak);
        if (w < bestEmptyCost) {
          bestEmptyCost = w;
          bestEmpty = d;
        }
        continue;
      }
      // Consolidating: lowest power increase (pack). Not consolidating: most headroom left
      // (spread), so the destination is not the next round's hotspot.
      const dw = a.drainBelow > 0 ? watts(d, mu[d]! + o.peak) - watts(d, mu[d]!) : after / cap(d);
      if (dw < bestCost) {
        bestCost = dw;
        best = d;
      }
    }
    return best >= 0 ? best : bestEmpty;
  };
  const apply = (c: ContainerSnapshot, from: number, to: number) => {
    const o = look.get(c.id)!;
    mu[from] = mu[from]! - (o.peak);
    var_[from] = Math.max(0, var_[from]! - o.sigma * o.sigma);
    mem[from] = mem[from]! - (c.demand.memoryBytes);
    count[from] = count[from]! - 1;
    mu[to] = mu[to]! + (o.peak);
    var_[to] = var_[to]! + (o.sigma * o.sigma);
    mem[to] = mem[to]! + (c.demand.memoryBytes);
    count[to] = count[to]! + 1;
    moved.add(c.id);
  };
  const moves: ProposedMove[] = [];

  // 1. Proactive relief: nodes whose forecast says they will run out of CPU.
  const risky = [...Array(N).keys()].filter((h) => s.nodes[h]!.up && risk(h) > 0 && safeLoad(h) > a.overloadAt * cap(h));
  risky.sort((x, y) => risk(y) - risk(x));
  for (const h of risky) {
    while (safeLoad(h) > a.target * cap(h)) {
      const before = risk(h);
      let pick: ContainerSnapshot | undefined;
      let pickTo = -1;
      let pickNet = 0;
      let pickGain = 0;
      let pickCost = 0;
      for (const c of ix.byNode[h]!) {
        if (ix.migrating.has(c.id) || moved.has(c.id)) continue;
        const o = look.get(c.id)!;
        const gain = before - risk(h, mu[h]! - o.peak, var_[h]! - o.sigma * o.sigma);
        const cost = migrationSeconds(c, s.transferRateBps) * a.degradation * c.demand.cpu;
        const net = gain - a.costFactor * cost;
        if (net <= pickNet) continue;
        const to = destination(c, h, true);
        if (to < 0) continue;
        pick = c;
        pickTo = to;
        pickNet = net;
        pickGain = gain;
        pickCost = cost;
      }
      if (!pick) break;
      const uBefore = safeLoad(h) / cap(h);
      apply(pick, h, pickTo);
      moves.push({
        containerId: pick.id,
        from: s.nodes[h]!.id,
        to: s.nodes[pickTo]!.id,
        reason:
          `forecast: ${s.nodes[h]!.id} predicted at ${fmtPct(uBefore)} of CPU (peak + ${a.z}σ over ${a.horizon} intervals); ` +
          `moving ${pick.id} avoids ${pickGain.toFixed(0)} CPU·s of expected overload for a migration cost of ${pickCost.toFixed(0)} CPU·s; ` +
          `${s.nodes[pickTo]!.id} stays under ${fmtPct(a.target)} with the lowest power increase`,
      });
    }
  }

  // 2. Consolidation: empty nodes predicted to stay lightly loaded, if everything fits elsewhere.
  if (a.drainBelow > 0) {
    const candidates = [...Array(N).keys()].filter(
      (h) => s.nodes[h]!.up && count[h]! > 0 && !recent[h] && safeLoad(h) < a.drainBelow * cap(h) && !ix.byNode[h]!.some((c) => moved.has(c.id) || ix.migrating.has(c.id)),
    );
    candidates.sort((x, y) => mu[x]! / cap(x) - mu[y]! / cap(y));
    const receiving = new Uint8Array(N);
    for (const m of moves) receiving[ix.nodeIdx.get(m.to)!] = 1;
    for (const h of candidates) {
      if (receiving[h] || count[h] === 0) continue;
      draining[h] = 1;
      const plan: { c: ContainerSnapshot; to: number }[] = [];
      const list = [...ix.byNode[h]!].sort((x, y) => look.get(y.id)!.peak - look.get(x.id)!.peak);
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
          reason: `forecast: ${s.nodes[h]!.id} predicted under ${fmtPct(a.drainBelow)} of CPU for ${a.horizon} intervals and all its containers fit elsewhere under ${fmtPct(a.target)}: drain it to save its idle power`,
        });
      }
    }
  }
  return moves;
}

export const forecastPolicy: PolicyPlugin<ForecastArgs> = {
  name: "forecast",
  description: "proactive: moves only when forecast overload risk beats the migration cost; drains lightly loaded nodes",
  argsSchema: ForecastArgs,
  create(args): PlacementPolicy {
    return { name: "forecast", propose: (s) => proposeForecast(s, args) };
  },
};
