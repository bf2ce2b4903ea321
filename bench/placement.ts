/**
 * `npm run bench:placement`: every policy on every PlanetLab day (planetlab preset and Herd's
 * live-cluster defaults), medians over the days next to CloudSim 3.0.3's figures for the same
 * days and the published table, plus the time of one planning round at 1,000 hosts / 20,000
 * containers. Writes bench/results/placement.{md,json} and SVG plots.
 * Traces: $HERD_TRACES_DIR (default ../shared/traces); reference: $HERD_REFERENCE_DIR.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createPolicy } from "../services/control/src/placement/policy-registry.js";
import { planMoves, UNLIMITED_BUDGET } from "../services/control/src/placement/move-planner.js";
import { LIVE_CLUSTER_POLICIES, PLANETLAB_POLICIES, POLICY_PRESETS } from "../services/control/src/simulator/policy-presets.js";
import { runSimulation } from "../services/control/src/simulator/run-simulation.js";
import { LIVE_CLUSTER_DEFAULTS, liveClusterWorkload, planetLabWorkload } from "../services/control/src/simulator/scenarios.js";
import type { SimPolicySpec, SimResult, SimWorkload } from "../services/control/src/simulator/sim-model.js";
import { powerAt } from "../services/control/src/placement/snapshot-index.js";
import { resultsTable, writeSimulationReport } from "../services/control/src/simulator/simulation-report.js";
import { scatterChart } from "../services/control/src/simulator/svg-chart.js";
import { syntheticSnapshot } from "../services/control/src/simulator/synthetic-snapshot.js";
import { listPlanetLabDays, readPlanetLabDay } from "../services/control/src/traces/planetlab.js";

const TRACES = resolve(process.env.HERD_TRACES_DIR ?? "../shared/traces");
const REFERENCE = resolve(process.env.HERD_REFERENCE_DIR ?? "../shared/reference");
const OUT = resolve(process.env.HERD_BENCH_OUT ?? "bench/results");
const ORDER = (process.env.HERD_PLANETLAB_ORDER ?? "sorted") as "sorted" | "directory";

const PUBLISHED: Record<string, { energy: number; slav: number; esv: number; slatah: number; pdm: number; migrations: number }> = {
  "THR-MMT-1.0": { energy: 75.36, slav: 25.78e-5, esv: 20.12e-3, slatah: 0.2497, pdm: 0.001, migrations: 13640 },
  "THR-MMT-0.8": { energy: 89.92, slav: 4.57e-5, esv: 4.19e-3, slatah: 0.0461, pdm: 0.001, migrations: 17180 },
  "IQR-MMT-1.5": { energy: 90.13, slav: 4.51e-5, esv: 4.0e-3, slatah: 0.0464, pdm: 0.001, migrations: 16930 },
  "MAD-MMT-2.5": { energy: 87.67, slav: 4.48e-5, esv: 3.94e-3, slatah: 0.0465, pdm: 0.001, migrations: 16720 },
  "LR-MMT-1.2": { energy: 88.17, slav: 2.33e-5, esv: 1.98e-3, slatah: 0.0363, pdm: 0.0006, migrations: 11850 },
};

/**
 * Other settings of Herd's `forecast` policy on the planetlab preset, from the preset towards
 * tighter packing (energy down, SLAV up) and towards safety margins (z: σ of predicted load kept
 * free on destinations). Together with the preset they trace the policy's energy/SLAV trade-off.
 */
const FRONTIER: SimPolicySpec[] = (
  [
    ["target 1, z 2", { target: 1, z: 2 }],
    ["target 1, z 1", { target: 1, z: 1 }],
    ["target 1, z 0.5", { target: 1, z: 0.5 }],
    ["target 1, z 0.5, drain < 0.9", { target: 1, z: 0.5, drainBelow: 0.9 }],
    ["target 1, z 0.25, drain < 0.85", { target: 1, z: 0.25, drainBelow: 0.85 }],
    ["target 1", { target: 1 }],
    ["target 0.98, drain < 0.85", { target: 0.98, drainBelow: 0.85 }],
    ["target 1, drain < 0.95", { target: 1, drainBelow: 0.95 }],
  ] as const
).map(([label, args]) => ({ name: "forecast", args: { ...(POLICY_PRESETS.forecast!.args as object), ...args }, label: `forecast (${label})` }));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Medians {
  policy: string;
  days: number;
  energyKWh: number;
  migrations: number;
  slatah: number;
  pdm: number;
  slav: number;
  esv: number;
  overloadHours: number;
}

function mediansOf(results: SimResult[], policy: string): Medians {
  const rs = results.filter((r) => r.policy === policy);
  return {
    policy,
    days: rs.length,
    energyKWh: median(rs.map((r) => r.energyKWh)),
    migrations: median(rs.map((r) => r.migrations)),
    slatah: median(rs.map((r) => r.slatah)),
    pdm: median(rs.map((r) => r.pdm)),
    slav: median(rs.map((r) => r.slav)),
    esv: median(rs.map((r) => r.esv)),
    overloadHours: median(rs.map((r) => r.overloadHostSeconds / 3600)),
  };
}

async function cloudsimMedians(days: string[]): Promise<Map<string, Medians>> {
  const out = new Map<string, Medians>();
  let text: string;
  try {
    text = await readFile(join(REFERENCE, "cloudsim-3.0.3-planetlab-results.csv"), "utf8");
  } catch {
    return out;
  }
  const rows = text
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","));
  const byPolicy = new Map<string, string[][]>();
  for (const r of rows) if (days.includes(r[1]!)) byPolicy.set(r[0]!, [...(byPolicy.get(r[0]!) ?? []), r]);
  for (const [p, rs] of byPolicy) {
    const col = (i: number) => median(rs.map((r) => Number(r[i])));
    out.set(p, {
      policy: p,
      days: rs.length,
      energyKWh: col(2),
      migrations: col(3),
      slatah: col(4),
      pdm: col(5),
      slav: col(6),
      esv: col(7),
      overloadHours: NaN,
    });
  }
  return out;
}

/**
 * An idealized energy floor for a PlanetLab day, whatever the policy: every round's total demand
 * (VMs dropped at their first zero request, as the simulator does) served by the most efficient
 * host type loaded to exactly `u`, as a fluid (no packing loss, free and instant migrations, a
 * clairvoyant planner). u = 1 leaves no headroom at all, so it is a floor no SLA-keeping policy
 * can reach; u = 0.9 is the same with 10 % headroom.
 */
function energyFloorKWh(w: SimWorkload, u: number): number {
  const best = w.hosts.reduce((b, h) => {
    const wpm = powerAt(h.powerWatts, u) / (u * h.cores * h.mipsPerCore);
    return wpm < b ? wpm : b;
  }, Infinity);
  const alive = new Uint8Array(w.vms.length).fill(1);
  let ws = 0;
  for (let t = 300.1; t <= w.durationSec; t += w.stepSec) {
    const x = t / w.stepSec;
    const i1 = Math.floor(x);
    let demand = 0;
    w.vms.forEach((vm, v) => {
      if (!alive[v]) return;
      const u1 = i1 < vm.cpuPct.length ? vm.cpuPct[i1]! / 100 : 0;
      const u2 = i1 + 1 < vm.cpuPct.length ? vm.cpuPct[i1 + 1]! / 100 : 0;
      const r = (u1 + (u2 - u1) * (x - i1)) * vm.mips;
      if (r === 0) alive[v] = 0;
      demand += r;
    });
    ws += demand * best * w.stepSec;
  }
  return ws / 3.6e6;
}

function timePlanningRound(): { policy: string; ms: number; moves: number }[] {
  const snap = syntheticSnapshot(1000, 20_000);
  const out: { policy: string; ms: number; moves: number }[] = [];
  for (const [name, args] of [
    ["forecast", { drainBelow: 0.3 }],
    ["threshold", {}],
    ["sandpiper", {}],
    ["consolidation", { detector: "lr", parameter: 1.2 }],
  ] as const) {
    const policy = createPolicy(name, args);
    policy.propose(snap); // warm-up (JIT)
    const t0 = performance.now();
    const moves = policy.propose(snap);
    const plan = planMoves(snap, moves, UNLIMITED_BUDGET);
    out.push({ policy: name, ms: performance.now() - t0, moves: plan.allowed.length });
  }
  return out;
}

const sci = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : "–");
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)} %` : "–");

async function main(): Promise<void> {
  const t0 = performance.now();
  const dayNames = await listPlanetLabDays(join(TRACES, "planetlab"));
  const dayDirs = dayNames.map((d) => join(TRACES, "planetlab", d));
  const planetlab: SimResult[] = [];
  const live: SimResult[] = [];
  const frontier: SimResult[] = [];
  const perDaySeconds: number[] = [];
  const floors: { day: string; full: number; headroom10: number }[] = [];
  for (const dir of dayDirs) {
    const day = await readPlanetLabDay(dir, { order: ORDER });
    const d0 = performance.now();
    const w = planetLabWorkload(day);
    floors.push({ day: day.day, full: energyFloorKWh(w, 1), headroom10: energyFloorKWh(w, 0.9) });
    for (const p of PLANETLAB_POLICIES) {
      const r = runSimulation({ workload: w, policy: POLICY_PRESETS[p]!, compareForecasters: p === "forecast" ? ["last"] : [] });
      planetlab.push(r);
      console.log(
        `${day.day} planetlab ${p}: ${r.energyKWh.toFixed(2)} kWh, ${r.migrations} migrations, SLAV ${sci(r.slav)} (${(r.wallMs / 1000).toFixed(1)} s)`,
      );
    }
    perDaySeconds.push((performance.now() - d0) / 1000);
    for (const policy of FRONTIER) frontier.push(runSimulation({ workload: w, policy }));
    console.log(`${day.day} planetlab forecast: ${FRONTIER.length} other settings for the energy/SLAV trade-off`);
    const lw = liveClusterWorkload(day);
    for (const p of LIVE_CLUSTER_POLICIES) {
      const r = runSimulation({ workload: lw, policy: POLICY_PRESETS[p]!, transferMBps: LIVE_CLUSTER_DEFAULTS.transferMBps });
      live.push(r);
      console.log(`${day.day} live-cluster ${p}: overload ${(r.overloadHostSeconds / 3600).toFixed(2)} host-h, ${r.migrations} migrations`);
    }
  }
  const cloudsim = await cloudsimMedians(dayNames);
  const planning = timePlanningRound();
  const plMed = PLANETLAB_POLICIES.map((p) => mediansOf(planetlab, POLICY_PRESETS[p]!.label ?? p));
  const liveMed = LIVE_CLUSTER_POLICIES.map((p) => mediansOf(live, POLICY_PRESETS[p]!.label ?? p));

  const fc = plMed.find((m) => m.policy === "forecast")!;
  const lr = plMed.find((m) => m.policy === "LR-MMT-1.2")!;
  const pub = PUBLISHED["LR-MMT-1.2"]!;
  const thrLive = liveMed.find((m) => m.policy === "threshold")!;
  const fcLive = liveMed.find((m) => m.policy === "forecast")!;
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
  const lines: string[] = [];
  lines.push("# Placement benchmark (`npm run bench:placement`)", "");
  lines.push(
    `Days: ${dayNames.join(", ")} (trace order: ${ORDER}). Medians over the days. Total wall time ${((performance.now() - t0) / 1000).toFixed(1)} s; all ${PLANETLAB_POLICIES.length} PlanetLab policies on one day: ${perDaySeconds.map((s) => s.toFixed(1)).join(" / ")} s.`,
    "",
  );
  lines.push("## PlanetLab preset (800 hosts, CloudSim 3.0.3 semantics)", "");
  lines.push(
    "| policy | energy kWh | migrations | SLATAH | PDM | SLAV | ESV | CloudSim 3.0.3 energy | CloudSim migrations | CloudSim SLAV | published energy | published migrations | published SLAV |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const m of plMed) {
    const c = cloudsim.get(m.policy);
    const p = PUBLISHED[m.policy];
    lines.push(
      `| ${m.policy} | ${m.energyKWh.toFixed(2)} | ${m.migrations.toFixed(0)} | ${pct(m.slatah)} | ${pct(m.pdm)} | ${sci(m.slav)} | ${sci(m.esv)} | ${c ? c.energyKWh.toFixed(2) : "–"} | ${c ? c.migrations.toFixed(0) : "–"} | ${c ? sci(c.slav) : "–"} | ${p ? p.energy.toFixed(2) : "–"} | ${p ? p.migrations : "–"} | ${p ? sci(p.slav) : "–"} |`,
    );
  }
  lines.push("", "## Targets", "");
  lines.push(
    `- forecast vs published LR-MMT-1.2: SLAV ${sci(fc.slav)} vs ${sci(pub.slav)} (${verdict(fc.slav < pub.slav)}); ESV ${sci(fc.esv)} vs ${sci(pub.esv)} (${verdict(fc.esv < pub.esv)}); migrations ${fc.migrations.toFixed(0)} vs ${pub.migrations} (${verdict(fc.migrations < pub.migrations)}); energy ${fc.energyKWh.toFixed(2)} vs ${pub.energy} kWh (${verdict(fc.energyKWh <= pub.energy)}, ${(((fc.energyKWh - pub.energy) / pub.energy) * 100).toFixed(0)} %).`,
  );
  lines.push(
    `- forecast vs LR-MMT-1.2 in this simulator: SLAV ${sci(fc.slav)} vs ${sci(lr.slav)}; energy ${fc.energyKWh.toFixed(2)} vs ${lr.energyKWh.toFixed(2)} kWh (${(((fc.energyKWh - lr.energyKWh) / lr.energyKWh) * 100).toFixed(0)} %); migrations ${fc.migrations.toFixed(0)} vs ${lr.migrations.toFixed(0)}.`,
  );
  lines.push(
    `- live-cluster defaults: forecast overload ${fcLive.overloadHours.toFixed(2)} host-h vs threshold ${thrLive.overloadHours.toFixed(2)} (target ≤ half: ${verdict(fcLive.overloadHours <= thrLive.overloadHours / 2)}); migrations ${fcLive.migrations.toFixed(0)} vs ${thrLive.migrations.toFixed(0)} (${verdict(fcLive.migrations <= thrLive.migrations)}).`,
  );
  lines.push(
    `- energy floor (fluid, clairvoyant, free migrations, all load on the most efficient host type): at 100 % utilization ${floors.map((f) => f.full.toFixed(1)).join(" / ")} kWh (median ${median(floors.map((f) => f.full)).toFixed(2)}); at 90 % ${floors.map((f) => f.headroom10.toFixed(1)).join(" / ")} kWh (median ${median(floors.map((f) => f.headroom10)).toFixed(2)}). The published ${pub.energy} kWh needs ≥ ≈95 % average utilization of the most efficient hosts all day in this simulator.`,
  );
  lines.push(
    `- one planning round, 1,000 hosts × 20,000 containers (target < 1 s): ${planning.map((p) => `${p.policy} ${p.ms.toFixed(0)} ms (${p.moves} moves)`).join("; ")}.`,
  );
  lines.push("", "## Energy against SLAV: the forecast policy's trade-off", "");
  const front = [{ ...fc, policy: "forecast (preset)" }, ...FRONTIER.map((f) => mediansOf(frontier, f.label!))].sort((a, b) => a.energyKWh - b.energyKWh);
  const clsLr = cloudsim.get("LR-MMT-1.2");
  const keepsSla = (m: Medians) => m.slav < pub.slav && m.esv < pub.esv;
  const bestKeeping = front.filter(keepsSla)[0];
  lines.push(
    `The preset (${JSON.stringify(POLICY_PRESETS.forecast!.args)}) and ${FRONTIER.length} other settings of the same policy, medians over the days. A setting "keeps the published SLA" when its SLAV and ESV are both below published LR-MMT-1.2's. Plot: placement-frontier.svg.`,
    "",
    "| setting | energy kWh | SLAV | ESV | migrations | SLATAH | PDM | keeps the published SLA |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const m of front)
    lines.push(
      `| ${m.policy} | ${m.energyKWh.toFixed(2)} | ${sci(m.slav)} | ${sci(m.esv)} | ${m.migrations.toFixed(0)} | ${pct(m.slatah)} | ${pct(m.pdm)} | ${keepsSla(m) ? "yes" : "no"} |`,
    );
  lines.push(
    "",
    `- Lowest energy among settings that keep the published SLA: ${bestKeeping ? `${bestKeeping.energyKWh.toFixed(2)} kWh (${bestKeeping.policy})` : "none"}; lowest energy of any setting: ${front[0]!.energyKWh.toFixed(2)} kWh at SLAV ${sci(front[0]!.slav)} (${front[0]!.policy}). Published LR-MMT-1.2: ${pub.energy} kWh at SLAV ${sci(pub.slav)}; the same policy in CloudSim 3.0.3 on these days: ${clsLr?.energyKWh.toFixed(2) ?? "–"} kWh at SLAV ${sci(clsLr?.slav ?? NaN)}.`,
  );
  const frontierSvg = scatterChart(
    "Energy vs SLAV, PlanetLab preset (medians over the days)",
    "energy (kWh per day)",
    "SLAV (log scale)",
    [
      { name: "Herd forecast, settings", x: front.map((m) => m.energyKWh), y: front.map((m) => m.slav) },
      { name: "Herd forecast preset", x: [fc.energyKWh], y: [fc.slav] },
      { name: "LR-MMT-1.2, this simulator", x: [lr.energyKWh], y: [lr.slav] },
      ...(clsLr ? [{ name: "LR-MMT-1.2, CloudSim 3.0.3", x: [clsLr.energyKWh], y: [clsLr.slav] }] : []),
      { name: "LR-MMT-1.2, published", x: [pub.energy], y: [pub.slav] },
    ],
    { logY: true },
  );
  lines.push("", "## How close to CloudSim 3.0.3, and why not closer", "");
  lines.push(
    'The simulator mirrors CloudSim 3.0.3\'s semantics as read from its source: PABFD initial placement at full MIPS in VM order; power and "switched off" judged on the utilization measured at the start of the round while fit uses current requests, except that a host\'s utilization for PABFD\'s power increase and its "empty host" test includes the VMs already virtually placed on it in the same round (findHostForVm uses getUtilizationOfCpuMips(host), the allocated MIPS of host.getVmList()); time-shared over-subscription (scaled, floored); a migrating VM keeps 90 % on the source and costs 10 % on the destination, whose host then counts as violating; VMs whose request reaches exactly 0 are dropped for good (CloudSim takes their cloudlet for finished: about half of the VMs of a day); LR = unweighted OLS on the last 10 samples (the tricube weights are never applied), THR 0.7 fallback under 10 (LR) / 12 (MAD, IQR) samples; rounds at 300.1 s + k·300 s.',
    "",
    "Energy now matches CloudSim 3.0.3's measured medians within ≈2 % for every policy (see the table). The earlier ≈38 % energy gap and LR-MMT-1.2's halved migration count came from PABFD ignoring the CPU virtually placed on a host earlier in the same round: every host looked as cheap for the 2nd, 3rd, … VM as for the first, so rounds packed far tighter than CloudSim, which prices each VM against getUtilizationOfCpuMips(host) (measured utilization is only the subtrahend, host.getPower()). Remaining differences: migrations ≈10 % fewer than CloudSim and SLAV ≈15 % lower; a VM that CloudSim would migrate twice in one round (placed on an overloaded host's target, then drained with it: both map entries are executed and counted) is migrated once, straight to its final host; float summation order differs. Initial placement keeps packing (every host's measured utilization is 0 then); pricing it with getUtilizationOfCpuMips as well spreads the VMs and moves IQR/MAD/LR 15-20 % away from CloudSim's measurements, so it is not done.",
  );
  lines.push("", "## Live-cluster defaults", "");
  lines.push(
    `${LIVE_CLUSTER_DEFAULTS.nodes} nodes × ${LIVE_CLUSTER_DEFAULTS.coresPerNode} cores, ${LIVE_CLUSTER_DEFAULTS.containers} one-core containers (first trace files of each day), ${LIVE_CLUSTER_DEFAULTS.transferMBps} MB/s migrations, round-robin start. Overload = host-hours with less CPU than requested.`,
    "",
  );
  lines.push("| policy | overload host-h | migrations | SLATAH | PDM | energy kWh |", "|---|---|---|---|---|---|");
  for (const m of liveMed)
    lines.push(`| ${m.policy} | ${m.overloadHours.toFixed(2)} | ${m.migrations.toFixed(0)} | ${pct(m.slatah)} | ${pct(m.pdm)} | ${m.energyKWh.toFixed(2)} |`);
  lines.push("", "## Every run", "", resultsTable([...planetlab, ...live]), "");
  const md = lines.join("\n");
  await writeSimulationReport(
    OUT,
    "placement-runs",
    planetlab.filter((r) => r.workload === planetlab[0]!.workload),
  );
  const { writeFile, mkdir } = await import("node:fs/promises");
  await mkdir(OUT, { recursive: true });
  await writeFile(join(OUT, "placement.md"), md);
  await writeFile(join(OUT, "placement-frontier.svg"), frontierSvg);
  await writeFile(
    join(OUT, "placement.json"),
    JSON.stringify(
      {
        days: dayNames,
        order: ORDER,
        planetlabMedians: plMed,
        liveClusterMedians: liveMed,
        cloudsim: [...cloudsim.values()],
        published: PUBLISHED,
        planning,
        energyFloors: floors,
        forecastFrontier: front,
        runs: [...planetlab, ...live].map(({ timeline: _t, ...r }) => r),
      },
      null,
      2,
    ),
  );
  console.log(md.split("## Live-cluster defaults")[0]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
