import { EwmaForecaster, LastValueForecaster } from "../forecast/baselines.js";
import type { Forecaster, ForecasterName } from "../forecast/forecaster.js";
import { LinearForecaster } from "../forecast/linear-forecaster.js";
import { ErrorStats } from "../forecast/metrics.js";
import { RandomForestForecaster } from "../forecast/random-forest-forecaster.js";
import { GlobalLinearForecaster } from "../forecast/global-linear-forecaster.js";
import type { ClusterSnapshot, ContainerSnapshot, MigrationInFlight, NodeSnapshot } from "../placement/cluster-snapshot.js";
import { UNLIMITED_BUDGET, planMoves } from "../placement/move-planner.js";
import { createPolicy } from "../placement/policy-registry.js";
import { powerAt } from "../placement/snapshot-index.js";
import type { SimConfig, SimResult, SimWorkload } from "./sim-model.js";

/** Builds a forecaster by name; learned models are refitted on each container's own history. */
export type ForecasterFactory = (name: ForecasterName) => Forecaster;
export const defaultForecasterFactory: ForecasterFactory = (name) => {
  switch (name) {
    case "last":
      return new LastValueForecaster();
    case "ewma":
      return new EwmaForecaster(0.7);
    case "linear":
      return new LinearForecaster({ horizons: [1, 2], trainWindow: 96, minTrainRows: 24 });
    case "random-forest":
      return new RandomForestForecaster({ horizons: [1, 2], trainWindow: 96, minTrainRows: 24 });
    case "global-linear":
      // Needs a model fitted across containers, which the replay does not train: it forecasts with EWMA and says so.
      return new GlobalLinearForecaster();
  }
};

/**
 * CloudSim's UtilizationModelPlanetLabInMemory.getUtilization, operation for operation (its
 * rounding decides ties between equally cheap hosts downstream): linear between samples; one
 * sample past the end repeats the last one (its data[288] = data[287]); 0 further on.
 */
function utilAt(trace: ArrayLike<number>, stepSec: number, t: number): number {
  const n = trace.length;
  const at = (i: number) => (i < n ? trace[i]! / 100 : i === n && n > 0 ? trace[n - 1]! / 100 : 0);
  if (t % stepSec === 0) return at(Math.trunc(t / stepSec));
  const i1 = Math.floor(t / stepSec);
  const i2 = Math.ceil(t / stepSec);
  const u1 = at(i1);
  const delta = (at(i2) - u1) / ((i2 - i1) * stepSec);
  return u1 + delta * (t - i1 * stepSec);
}

/**
 * Replays a workload through a placement policy with CloudSim 3.0.3's datacenter semantics, so
 * the published consolidation study can be reproduced and Herd's policies compared on the same
 * work. Per host: time-shared over-subscribable CPU (a VM gets at most one core; when demand
 * exceeds capacity every VM is scaled down and floored); a migrating VM keeps 90 % of its demand
 * on the source and costs 10 % on the destination for RAM / bandwidth seconds; energy integrates
 * ½(P(u_prev) + P(u_now))·Δt between events, a host whose previous utilization was 0 being off.
 * Policies see only a ClusterSnapshot and their moves go through the same move planner as live.
 */
export function runSimulation(config: SimConfig, forecasterFactory: ForecasterFactory = defaultForecasterFactory): SimResult {
  const wall0 = performance.now();
  const w: SimWorkload = config.workload;
  const policy = createPolicy(config.policy.name, config.policy.args ?? {});
  const budget = config.budget ?? UNLIMITED_BUDGET;
  const transferMBps = config.transferMBps ?? 62.5;
  const degradation = config.degradation ?? 0.1;
  const keep = 1 - degradation;
  const HL = config.historyLength ?? 30;
  const step = w.stepSec;
  const usesForecast = config.forecaster !== undefined ? config.forecaster !== "none" : config.policy.name === "forecast";
  const forecasterName: ForecasterName | undefined = usesForecast ? ((config.forecaster as ForecasterName | undefined) ?? "ewma") : undefined;
  const horizon = config.forecastHorizon ?? 3;

  const H = w.hosts.length;
  const V = w.vms.length;
  const total = new Float64Array(H);
  const pe = new Float64Array(H);
  for (let h = 0; h < H; h++) {
    total[h] = w.hosts[h]!.cores * w.hosts[h]!.mipsPerCore;
    pe[h] = w.hosts[h]!.mipsPerCore;
  }
  const mips = Float64Array.from(w.vms, (v) => v.mips);
  const ramMb = Float64Array.from(w.vms, (v) => v.ramMb);

  // --- initial placement (CloudSim: PABFD at full MIPS, in VM id order; every host's measured
  // utilization is still 0, and the overload test never rejects: cloudlets are not yet submitted,
  // so only the new VM's own MIPS count as requested, at most 2500 / 3720 < 0.7) ---
  const lists: number[][] = Array.from({ length: H }, () => []);
  const vmHost = new Int32Array(V).fill(-1);
  if (w.initialPlacement === "round-robin") {
    for (let v = 0; v < V; v++) {
      lists[v % H]!.push(v);
      vmHost[v] = v % H;
    }
  } else {
    const availMips = Float64Array.from(total);
    const availRam = Float64Array.from(w.hosts, (h) => h.ramMb);
    const availBw = Float64Array.from(w.hosts, (h) => h.bwKbps);
    for (let v = 0; v < V; v++) {
      let best = -1;
      let minDiff = Number.MAX_VALUE;
      for (let h = 0; h < H; h++) {
        if (pe[h]! < mips[v]! || availMips[h]! < mips[v]! || availRam[h]! < ramMb[v]! || availBw[h]! < w.vms[v]!.bwKbps) continue;
        // CloudSim prices the host with getUtilizationOfCpuMips(host): the full MIPS already
        // allocated at creation to the VMs placed on it before (host.getPower() is still P(0)).
        const u = (total[h]! - availMips[h]! + mips[v]!) / total[h]!;
        if (u > 1) continue;
        const diff = powerAt(w.hosts[h]!.powerWatts, u) - powerAt(w.hosts[h]!.powerWatts, 0);
        if (diff < minDiff) {
          minDiff = diff;
          best = h;
        }
      }
      if (best < 0) continue;
      availMips[best] = availMips[best]! - mips[v]!;
      availRam[best] = availRam[best]! - ramMb[v]!;
      availBw[best] = availBw[best]! - w.vms[v]!.bwKbps;
      lists[best]!.push(v);
      vmHost[v] = best;
    }
  }
  const placed = Uint8Array.from(vmHost, (h) => (h >= 0 ? 1 : 0));
  const unplaced = V - placed.reduce((a, b) => a + b, 0);

  // --- state ---
  const migTo = new Int32Array(V).fill(-1);
  const migFrom = new Int32Array(V).fill(-1);
  // CloudSim's redundant first hop (ProposedMove.via): a second host holding the incoming copy.
  const migVia = new Int32Array(V).fill(-1);
  const incoming = (v: number, h: number) => migTo[v] === h || migVia[v] === h;
  // CloudSim's VmScheduler.vmsMigratingOut entries (VM × host it left, kept until it lands there again).
  const staleOut = w.cloudsimStaleMigratingOut ? new Set<number>() : undefined;
  const returning = (v: number, h: number) => staleOut !== undefined && staleOut.has(v * H + h);
  const migStart = new Float64Array(V);
  const lastMigratedAt = new Float64Array(V).fill(NaN);
  const req = new Float64Array(V);
  const hist = new Float64Array(V * HL); // ring, utilization fraction
  let histCount = 0;
  let histHead = 0; // index of the most recent sample
  const utilMips = new Float64Array(H);
  // Host state history, folded on the fly (CloudSim's getSlaTimePerActiveHost).
  const hT = new Float64Array(H).fill(-1);
  const hAlloc = new Float64Array(H);
  const hReq = new Float64Array(H);
  const hActive = new Uint8Array(H);
  let activeTime = 0;
  let violTime = 0;
  // VM state history, folded on the fly (CloudSim's getSlaMetrics).
  const vT = new Float64Array(V).fill(-1);
  const vAlloc = new Float64Array(V);
  const vReq = new Float64Array(V);
  const vMig = new Uint8Array(V);
  let totReq = 0;
  let totAlloc = 0;
  let underMig = 0;
  let vmSeconds = 0;
  let unmetVmSeconds = 0;
  let energyWs = 0;
  let lastT = 0;

  const recordHost = (h: number, t: number, alloc: number, rq: number, active: boolean) => {
    if (hT[h]! >= 0 && t > hT[h]!) {
      const dt = t - hT[h]!;
      if (hActive[h]) {
        activeTime += dt;
        if (hAlloc[h]! < hReq[h]!) violTime += dt;
      }
    }
    hT[h] = t;
    hAlloc[h] = alloc;
    hReq[h] = rq;
    hActive[h] = active ? 1 : 0;
  };
  const recordVm = (v: number, t: number, alloc: number, rq: number, inMig: boolean) => {
    if (vT[v]! >= 0 && t > vT[v]!) {
      const dt = t - vT[v]!;
      totAlloc += vAlloc[v]! * dt;
      totReq += vReq[v]! * dt;
      if (vMig[v] && vAlloc[v]! < vReq[v]!) underMig += (vReq[v]! - vAlloc[v]!) * dt;
      vmSeconds += dt;
      // Unmet: got less than asked, by more than rounding (CloudSim floors MIPS when over-subscribed).
      if (vAlloc[v]! < vReq[v]! - 1e-6 * (1 + vReq[v]!)) unmetVmSeconds += dt;
    }
    vT[v] = t;
    vAlloc[v] = alloc;
    vReq[v] = rq;
    vMig[v] = inMig ? 1 : 0;
  };
  const clampU = (u: number) => (u > 1 ? 1 : u);
  const removeIdleVms = w.removeIdleVms ?? false;
  let removed = 0;

  /** CloudSim's HostDynamicWorkload.updateVmsProcessing for every host at time t. */
  const update = (t: number, pushHistory: boolean) => {
    for (let v = 0; v < V; v++) if (placed[v]) req[v] = utilAt(w.vms[v]!.cpuPct, step, t) * mips[v]!;
    if (pushHistory) {
      histHead = (histHead + 1) % HL;
      histCount = Math.min(HL, histCount + 1);
      for (let v = 0; v < V; v++) hist[v * HL + histHead] = req[v]! / mips[v]!;
    }
    const dt = t - lastT;
    for (let h = 0; h < H; h++) {
      const list = lists[h]!;
      const cap = total[h]!;
      const pcap = pe[h]!;
      let avail = cap;
      let over = false;
      let sumTr = 0;
      for (const v of list) {
        const capped = Math.min(req[v]!, pcap);
        const tr = incoming(v, h) ? capped * 0.1 : capped;
        sumTr += tr;
        if (!over && avail >= tr) avail -= tr;
        else over = true;
      }
      const scaling = over ? cap / sumTr : 1;
      let used = 0;
      let requested = 0;
      for (const v of list) {
        const capped = Math.min(req[v]!, pcap);
        const isIn = incoming(v, h);
        const isOut = !isIn && migTo[v]! >= 0;
        let alloc: number;
        // A VM coming back to a host it once left is still in that host's migrating-out list in
        // CloudSim, whose scheduler then gives the incoming copy 90 % instead of 10 %.
        const back = isIn && returning(v, h);
        if (!over) alloc = isOut || back ? capped * keep : isIn ? capped * 0.1 : capped;
        else alloc = isOut || back ? Math.floor(capped * scaling * keep) : isIn ? Math.floor(capped * 0.1 * scaling) : Math.floor(capped * scaling);
        if (isIn) used += alloc;
        else {
          recordVm(v, t, alloc, req[v]!, isOut);
          used += isOut ? alloc / keep : alloc;
        }
        requested += req[v]!;
      }
      if (dt > 0) {
        const from = clampU(utilMips[h]! / cap);
        if (from !== 0) {
          const pw = w.hosts[h]!.powerWatts;
          const p1 = powerAt(pw, from);
          energyWs += (p1 + (powerAt(pw, clampU(used / cap)) - p1) / 2) * dt;
        }
      }
      utilMips[h] = used;
      recordHost(h, t, used, requested, used > 0);
    }
    lastT = t;
    if (removeIdleVms) {
      // CloudSim's PowerDatacenter removes "completed" VMs: any VM, not migrating, whose current
      // request is exactly 0 is deallocated for good (its cloudlet is treated as finished).
      for (let h = 0; h < H; h++) {
        const list = lists[h]!;
        for (let i = list.length - 1; i >= 0; i--) {
          const v = list[i]!;
          if (migTo[v]! < 0 && req[v] === 0) {
            list.splice(i, 1);
            placed[v] = 0;
            vmHost[v] = -1;
            removed++;
          }
        }
      }
    }
  };

  // --- forecasting (only what the policy or the report needs) ---
  const stepsTotal = Math.floor(w.durationSec / step) + 2;
  const fullHist = usesForecast || (config.compareForecasters?.length ?? 0) > 0 ? new Float64Array(V * stepsTotal) : undefined;
  let fullLen = 0;
  const models = [...new Set([...(forecasterName ? [forecasterName] : []), ...(config.compareForecasters ?? [])])];
  const perVmModels: Forecaster[][] = models.map((m) =>
    m === "last" || m === "ewma" ? [forecasterFactory(m)] : Array.from({ length: V }, () => forecasterFactory(m)),
  );
  const errStats = models.map(() => new ErrorStats());
  const lastPred = models.map(() => new Float64Array(V).fill(NaN));
  const forecastCpu: (number[] | undefined)[] = new Array(V);
  const recentWindow = 48;
  const refitEvery = 12;
  const runForecasts = (round: number) => {
    if (!fullHist) return;
    for (let v = 0; v < V; v++) fullHist[v * stepsTotal + fullLen] = req[v]! / mips[v]!;
    fullLen++;
    for (let mi = 0; mi < models.length; mi++) {
      const shared = perVmModels[mi]!.length === 1;
      const needs = models[mi] === forecasterName ? horizon : 1;
      for (let v = 0; v < V; v++) {
        if (!placed[v]) continue;
        const series = fullHist.subarray(v * stepsTotal, v * stepsTotal + fullLen);
        const actual = series[fullLen - 1]!;
        const prev = lastPred[mi]![v]!;
        if (!Number.isNaN(prev)) errStats[mi]!.add(prev * 100, actual * 100);
        const f = perVmModels[mi]![shared ? 0 : v]!;
        if (!shared && round % refitEvery === 0 && fullLen >= 24) f.fit(Array.from(series));
        const recent = Array.from(series.subarray(Math.max(0, fullLen - recentWindow)));
        const pred = f.predict(recent, needs);
        lastPred[mi]![v] = Math.max(0, pred[0] ?? actual);
        if (models[mi] === forecasterName) forecastCpu[v] = pred.map((x) => Math.max(0, x) * mips[v]!);
      }
    }
  };

  // --- snapshot for the policy ---
  const nodeIds = w.hosts.map((h) => h.id);
  const buildSnapshot = (t: number): ClusterSnapshot => {
    const nodes: NodeSnapshot[] = [];
    const containers: ContainerSnapshot[] = [];
    const migrations: MigrationInFlight[] = [];
    for (let h = 0; h < H; h++) {
      const spec = w.hosts[h]!;
      let memUsed = 0;
      for (const v of lists[h]!) {
        if (incoming(v, h)) continue;
        const vm = w.vms[v]!;
        const memBytes = vm.memPct ? utilAt(vm.memPct, step, t) * vm.ramMb * 1e6 : 0;
        memUsed += memBytes;
        const n = Math.min(histCount, HL);
        const cpuHist: number[] = new Array(n);
        for (let i = 0; i < n; i++) cpuHist[n - 1 - i] = hist[v * HL + ((histHead - i + HL) % HL)]! * mips[v]!;
        const lm = lastMigratedAt[v]!;
        const f = forecastCpu[v];
        containers.push({
          id: vm.id,
          nodeId: spec.id,
          demand: { cpu: req[v]!, memoryBytes: memBytes, netBps: 0 },
          history: { cpu: cpuHist },
          ...(f ? { forecast: { cpu: f } } : {}),
          memorySizeBytes: vm.ramMb * 1e6,
          ...(Number.isNaN(lm) ? {} : { lastMigratedAt: lm * 1000 }),
        });
        if (migTo[v]! >= 0) migrations.push({ containerId: vm.id, from: spec.id, to: nodeIds[migTo[v]!]!, startedAt: migStart[v]! * 1000 });
      }
      nodes.push({
        id: spec.id,
        up: true,
        capacity: { cpu: total[h]!, cpuPerCore: pe[h]!, memoryBytes: spec.ramMb * 1e6, netBps: 0 },
        usage: { cpu: utilMips[h]!, memoryBytes: memUsed, netBps: 0 },
        powerWatts: spec.powerWatts,
      });
    }
    return { now: t * 1000, intervalSec: step, nodes, containers, migrations, transferRateBps: transferMBps * 1e6 };
  };

  // --- the event loop ---
  const vmIndex = new Map(w.vms.map((v, i) => [v.id, i]));
  const hostIndex = new Map(nodeIds.map((id, i) => [id, i]));
  const pending: { v: number; end: number }[] = [];
  const timelineT: number[] = [];
  const timelineActive: number[] = [];
  const timelineMig: number[] = [];
  let migrations = 0;
  let rejected = 0;
  let planMsSum = 0;
  let planMsMax = 0;
  let rounds = 0;

  const completeMigrationsUntil = (limit: number) => {
    pending.sort((a, b) => a.end - b.end);
    while (pending.length && pending[0]!.end <= limit) {
      const tEnd = pending[0]!.end;
      update(tEnd, false);
      while (pending.length && pending[0]!.end === tEnd) {
        const { v } = pending.shift()!;
        const src = migFrom[v]!;
        const dst = migTo[v]!;
        const ls = lists[src]!;
        ls.splice(ls.indexOf(v), 1);
        const ld = lists[dst]!;
        ld.splice(ld.indexOf(v), 1);
        ld.push(v);
        if (migVia[v]! >= 0) {
          const lv = lists[migVia[v]!]!;
          lv.splice(lv.indexOf(v), 1);
          staleOut?.delete(v * H + migVia[v]!);
          migVia[v] = -1;
        }
        staleOut?.delete(v * H + dst);
        vmHost[v] = dst;
        migTo[v] = -1;
        migFrom[v] = -1;
        lastMigratedAt[v] = tEnd;
      }
      update(tEnd, false);
    }
  };

  let t = config.startOffsetSec ?? 0.1;
  for (let round = 0; ; round++) {
    t += step;
    if (t > w.durationSec) break;
    completeMigrationsUntil(t - 1e-9);
    update(t, true);
    runForecasts(round);
    const p0 = performance.now();
    const snap = buildSnapshot(t);
    const proposals = policy.propose(snap);
    const plan = planMoves(snap, proposals, budget);
    const ms = performance.now() - p0;
    planMsSum += ms;
    planMsMax = Math.max(planMsMax, ms);
    rounds++;
    rejected += plan.rejected.length;
    for (const m of plan.start) {
      const v = vmIndex.get(m.containerId)!;
      const dst = hostIndex.get(m.to)!;
      migFrom[v] = vmHost[v]!;
      migTo[v] = dst;
      migStart[v] = t;
      staleOut?.add(v * H + migFrom[v]!);
      lists[dst]!.push(v);
      pending.push({ v, end: t + ramMb[v]! / transferMBps });
      migrations++;
      const via = m.via === undefined ? undefined : hostIndex.get(m.via);
      if (via !== undefined && via !== dst && via !== migFrom[v]) {
        // CloudSim executes both entries of its migration map: both count, both hosts carry the copy.
        migVia[v] = via;
        lists[via]!.push(v);
        migrations++;
      }
    }
    if (plan.start.length) update(t, false);
    let active = 0;
    for (let h = 0; h < H; h++) if (utilMips[h]! > 0) active++;
    timelineT.push(t);
    timelineActive.push(active);
    timelineMig.push(plan.start.length);
  }
  completeMigrationsUntil(w.durationSec);

  const slatah = activeTime > 0 ? violTime / activeTime : 0;
  const pdm = totReq > 0 ? underMig / totReq : 0;
  const energyKWh = energyWs / 3.6e6;
  return {
    workload: w.name,
    policy: config.policy.label ?? config.policy.name,
    hosts: H,
    vms: V,
    unplacedVms: unplaced,
    removedIdleVms: removed,
    energyKWh,
    migrations,
    slatah,
    pdm,
    slav: slatah * pdm,
    esv: energyKWh * slatah * pdm,
    overallUnderAllocation: totReq > 0 ? (totReq - totAlloc) / totReq : 0,
    unmetVmTimeShare: vmSeconds > 0 ? unmetVmSeconds / vmSeconds : 0,
    overloadHostSeconds: violTime,
    activeHostSeconds: activeTime,
    timeline: { t: timelineT, activeHosts: timelineActive, migrations: timelineMig },
    forecastErrors: models.map((m, i) => ({
      model: m,
      mae: errStats[i]!.mae,
      rmse: errStats[i]!.rmse,
      samples: errStats[i]!.count,
      usedForDecisions: m === forecasterName,
    })),
    rejectedMoves: rejected,
    planningMsMean: rounds ? planMsSum / rounds : 0,
    planningMsMax: planMsMax,
    wallMs: performance.now() - wall0,
  };
}
