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
// CloudSim reads a day with File.listFiles(): the file system's own order, which decides which VM
// gets which of the four VM types. The reference figures were measured on these folders, so the
// comparison uses the same order (on another file system the per-day figures move by a few %).
const ORDER = (process.env.HERD_PLANETLAB_ORDER ?? "directory") as "sorted" | "directory";

const PUBLISHED: Record<string, { energy: number; slav: number; esv: number; slatah: number; pdm: number; migrations: number }> = {
  "THR-MMT-1.0": { energy: 75.36, slav: 25.78e-5, esv: 20.12e-3, slatah: 0.2497, pdm: 0.001, migrations: 13640 },
  "THR-MMT-0.8": { energy: 89.92, slav: 4.57e-5, esv: 4.19e-3, slatah: 0.0461, pdm: 0.001, migrations: 17180 },
  "IQR-MMT-1.5": { energy: 90.13, slav: 4.51e-5, esv: 4.0e-3, slatah: 0.0464, pdm: 0.001, migrations: 16930 },
  "MAD-MMT-2.5": { energy: 87.67, slav: 4.48e-5, esv: 3.94e-3, slatah: 0.0465, pdm: 0.001, migrations: 16720 },
  "LR-MMT-1.2": { energy: 88.17, slav: 2.33e-5, esv: 1.98e-3, slatah: 0.0363, pdm: 0.0006, migrations: 11850 },
};

/** Days the forecast policy's setting is chosen on; the other days only report it. */
const TUNE_DAYS = ["20110303", "20110306", "20110309"];

/** The simulator's notes (mechanisms behind the remaining gap to CloudSim), quoted in the report. */
const SIMULATOR_NOTES = await readFile(resolve("services/control/src/simulator/NOTES.md"), "utf8").then(
  (t) => t.replace(/^# .*\n+/, ""),
  () => "(services/control/src/simulator/NOTES.md not found: run from the repository root)",
);

/**
 * Settings of Herd's `forecast` policy tried on the planetlab preset: packing target × safety
 * margin z (σ of predicted load kept free on destinations), over the preset's other arguments.
 */
const GRID: SimPolicySpec[] = [0.85, 0.9, 0.95].flatMap((target) =>
  [0.5, 1, 2].map((z) => ({
    name: "forecast",
    args: { ...(POLICY_PRESETS.forecast!.args as object), target, z },
    label: `forecast (target ${target}, z ${z})`,
  })),
);

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
  /** Under-delivered CPU: requested but not allocated, whatever the cause / requested. */
  underDelivered: number;
  /** Share of VM-time with less CPU than requested. */
  unmetShare: number;
}

function mediansOf(results: SimResult[], policy: string): Medians {
  const rs = results.filter((r) => r.policy === policy);
  const med = (f: (r: SimResult) => number) => median(rs.map(f));
  return {
    policy,
    days: rs.length,
    energyKWh: med((r) => r.energyKWh),
    migrations: med((r) => r.migrations),
    slatah: med((r) => r.slatah),
    pdm: med((r) => r.pdm),
    slav: med((r) => r.slav),
    esv: med((r) => r.esv),
    overloadHours: med((r) => r.overloadHostSeconds / 3600),
    underDelivered: med((r) => r.overallUnderAllocation),
    unmetShare: med((r) => r.unmetVmTimeShare),
  };
}

/** CloudSim 3.0.3's measured figures for one policy on one day. */
interface CloudSimRow {
  policy: string;
  day: string;
  energyKWh: number;
  migrations: number;
  slatah: number;
  pdm: number;
  slav: number;
  esv: number;
}

async function cloudsimRows(days: string[]): Promise<CloudSimRow[]> {
  let text: string;
  try {
    text = await readFile(join(REFERENCE, "cloudsim-3.0.3-planetlab-results.csv"), "utf8");
  } catch {
    return [];
  }
  return text
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","))
    .filter((r) => days.includes(r[1]!))
    .map((r) => ({
      policy: r[0]!,
      day: r[1]!,
      energyKWh: Number(r[2]),
      migrations: Number(r[3]),
      slatah: Number(r[4]),
      pdm: Number(r[5]),
      slav: Number(r[6]),
      esv: Number(r[7]),
    }));
}

function cloudsimMedians(rows: CloudSimRow[]): Map<string, Medians> {
  const out = new Map<string, Medians>();
  for (const p of new Set(rows.map((r) => r.policy))) {
    const rs = rows.filter((r) => r.policy === p);
    const col = (f: (r: CloudSimRow) => number) => median(rs.map(f));
    out.set(p, {
      policy: p,
      days: rs.length,
      energyKWh: col((r) => r.energyKWh),
      migrations: col((r) => r.migrations),
      slatah: col((r) => r.slatah),
      pdm: col((r) => r.pdm),
      slav: col((r) => r.slav),
      esv: col((r) => r.esv),
      overloadHours: NaN,
      underDelivered: NaN,
      unmetShare: NaN,
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
const pct3 = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(3)} %` : "–");
const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
const FIDELITY_METRICS = ["energyKWh", "migrations", "slav", "esv"] as const;

/** The `herd simulate` command line that reproduces one row of this report. */
function reproduce(scenario: "planetlab" | "live-cluster", day: string, spec: SimPolicySpec, preset: string): string {
  const presetArgs = POLICY_PRESETS[preset]?.args ?? {};
  const args = spec.args ?? {};
  const same = JSON.stringify(args) === JSON.stringify(presetArgs);
  const diff = Object.fromEntries(Object.entries(args as Record<string, unknown>).filter(([k, v]) => (presetArgs as Record<string, unknown>)[k] !== v));
  return `herd simulate --scenario ${scenario} --day ${day} --order ${ORDER} --policies ${preset}${same ? "" : ` --args '${JSON.stringify(diff)}'`}`;
}

interface DayCheck {
  day: string;
  ok: boolean;
  failed: string[];
}

/**
 * Issue 14's bar for the forecast policy on one day: lower SLAV, ESV and migrations than CloudSim
 * 3.0.3's LR-MMT-1.2 on that day, and no more under-delivered CPU and no more energy than this
 * simulator's LR-MMT-1.2 on that day.
 */
function checkForecastDay(r: SimResult, ourLr: SimResult, cs: CloudSimRow | undefined): DayCheck {
  const failed: string[] = [];
  if (!cs) failed.push("no CloudSim figures for the day");
  else {
    if (!(r.slav < cs.slav)) failed.push(`SLAV ${sci(r.slav)} ≥ CloudSim LR ${sci(cs.slav)}`);
    if (!(r.esv < cs.esv)) failed.push(`ESV ${sci(r.esv)} ≥ CloudSim LR ${sci(cs.esv)}`);
    if (!(r.migrations < cs.migrations)) failed.push(`migrations ${r.migrations} ≥ CloudSim LR ${cs.migrations}`);
  }
  if (!(r.overallUnderAllocation <= ourLr.overallUnderAllocation))
    failed.push(`under-delivered ${pct3(r.overallUnderAllocation)} > our LR ${pct3(ourLr.overallUnderAllocation)}`);
  if (!(r.energyKWh <= ourLr.energyKWh)) failed.push(`energy ${r.energyKWh.toFixed(1)} > our LR ${ourLr.energyKWh.toFixed(1)} kWh`);
  return { day: r.workload.replace(/^planetlab-/, ""), ok: failed.length === 0, failed };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const dayNames = await listPlanetLabDays(join(TRACES, "planetlab"));
  const dayDirs = dayNames.map((d) => join(TRACES, "planetlab", d));
  const planetlab: SimResult[] = [];
  const live: SimResult[] = [];
  const grid: SimResult[] = [];
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
        `${day.day} planetlab ${p}: ${r.energyKWh.toFixed(2)} kWh, ${r.migrations} migrations, SLAV ${sci(r.slav)}, under-delivered ${pct3(r.overallUnderAllocation)} (${(r.wallMs / 1000).toFixed(1)} s)`,
      );
    }
    perDaySeconds.push((performance.now() - d0) / 1000);
    for (const policy of GRID) grid.push(runSimulation({ workload: w, policy }));
    console.log(`${day.day} planetlab forecast: ${GRID.length} settings of the tuning grid`);
    const lw = liveClusterWorkload(day);
    for (const p of LIVE_CLUSTER_POLICIES) {
      const r = runSimulation({ workload: lw, policy: POLICY_PRESETS[p]!, transferMBps: LIVE_CLUSTER_DEFAULTS.transferMBps });
      live.push(r);
      console.log(`${day.day} live-cluster ${p}: SLATAH ${pct(r.slatah)}, ${r.migrations} migrations`);
    }
  }
  const csRows = await cloudsimRows(dayNames);
  const cloudsim = cloudsimMedians(csRows);
  const csOf = (policy: string, day: string) => csRows.find((r) => r.policy === policy && r.day === day);
  const ours = (policy: string, day: string) => planetlab.find((r) => r.policy === policy && r.workload === `planetlab-${day}`)!;
  const planning = timePlanningRound();
  const plMed = PLANETLAB_POLICIES.map((p) => mediansOf(planetlab, POLICY_PRESETS[p]!.label ?? p));
  const liveMed = LIVE_CLUSTER_POLICIES.map((p) => mediansOf(live, POLICY_PRESETS[p]!.label ?? p));
  const lr = plMed.find((m) => m.policy === "LR-MMT-1.2")!;
  const pub = PUBLISHED["LR-MMT-1.2"]!;
  const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

  // --- forecast setting: chosen on TUNE_DAYS only, then judged on every day ---
  const tuneDays = dayNames.filter((d) => TUNE_DAYS.includes(d));
  const heldOutDays = dayNames.filter((d) => !TUNE_DAYS.includes(d));
  const gridRun = (label: string, day: string) => grid.find((r) => r.policy === label && r.workload === `planetlab-${day}`)!;
  const gridChecks = GRID.map((g) => ({
    spec: g,
    tune: tuneDays.map((d) => checkForecastDay(gridRun(g.label!, d), ours("LR-MMT-1.2", d), csOf("LR-MMT-1.2", d))),
    tuneEnergy: median(tuneDays.map((d) => gridRun(g.label!, d).energyKWh)),
  }));
  const qualifying = gridChecks.filter((g) => g.tune.every((c) => c.ok)).sort((a, b) => a.tuneEnergy - b.tuneEnergy);
  const chosen = qualifying[0];
  const presetArgs = POLICY_PRESETS.forecast!.args as Record<string, unknown>;
  const presetIsChosen = chosen !== undefined && JSON.stringify(chosen.spec.args) === JSON.stringify(presetArgs);
  const fcChecks = dayNames.map((d) => checkForecastDay(ours("forecast", d), ours("LR-MMT-1.2", d), csOf("LR-MMT-1.2", d)));

  const lines: string[] = [];
  lines.push("# Placement benchmark (`npm run bench:placement`)", "");
  lines.push(
    `Days: ${dayNames.join(", ")} (trace order: ${ORDER} — CloudSim's File.listFiles order on this file system, the order the reference figures were measured with). Medians over the days. Total wall time ${((performance.now() - t0) / 1000).toFixed(1)} s; all ${PLANETLAB_POLICIES.length} PlanetLab policies on one day: ${perDaySeconds.map((s) => s.toFixed(1)).join(" / ")} s.`,
    "",
    "Every table reports, next to SLATAH, PDM, SLAV and ESV, the **under-delivered CPU** (CPU requested but not allocated, whatever the cause, / CPU requested) and the **VM-time unmet** (share of VM-seconds with less CPU than requested): SLAV = SLATAH × PDM does not see CPU withheld outside migrations.",
    "",
  );
  lines.push("## PlanetLab preset (800 hosts, CloudSim 3.0.3 semantics)", "");
  lines.push(
    "| policy | energy kWh | migrations | SLATAH | PDM | SLAV | ESV | under-delivered CPU | VM-time unmet | CloudSim energy | CloudSim migrations | CloudSim SLAV | CloudSim ESV | published energy | published SLAV |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const m of plMed) {
    const c = cloudsim.get(m.policy);
    const p = PUBLISHED[m.policy];
    lines.push(
      `| ${m.policy} | ${m.energyKWh.toFixed(2)} | ${m.migrations.toFixed(0)} | ${pct(m.slatah)} | ${pct(m.pdm)} | ${sci(m.slav)} | ${sci(m.esv)} | ${pct3(m.underDelivered)} | ${pct(m.unmetShare)} | ${c ? c.energyKWh.toFixed(2) : "–"} | ${c ? c.migrations.toFixed(0) : "–"} | ${c ? sci(c.slav) : "–"} | ${c ? sci(c.esv) : "–"} | ${p ? p.energy.toFixed(2) : "–"} | ${p ? sci(p.slav) : "–"} |`,
    );
  }

  // --- fidelity, per day ---
  const fidelityPolicies = ["THR-MMT-0.8", "MAD-MMT-2.5", "IQR-MMT-1.5", "LR-MMT-1.2", "THR-MMT-1.0"];
  const targetPolicies = fidelityPolicies.slice(0, 4);
  const fid: { policy: string; day: string; r: Record<(typeof FIDELITY_METRICS)[number], number> }[] = [];
  for (const p of fidelityPolicies)
    for (const d of dayNames) {
      const c = csOf(p, d);
      if (!c) continue;
      const o = ours(p, d);
      fid.push({
        policy: p,
        day: d,
        r: { energyKWh: ratio(o.energyKWh, c.energyKWh), migrations: ratio(o.migrations, c.migrations), slav: ratio(o.slav, c.slav), esv: ratio(o.esv, c.esv) },
      });
    }
  const inTarget = fid.filter((f) => targetPolicies.includes(f.policy));
  const fmtR = (x: number) => (Math.abs(x - 1) <= 0.05 ? x.toFixed(3) : `**${x.toFixed(3)}**`);
  lines.push("", "## Fidelity: this simulator / CloudSim 3.0.3, per day", "");
  lines.push(
    "Ratios of this simulator's figure to CloudSim 3.0.3's measured figure for the same policy and day (bold: more than 5 % off). Target (issue 14): THR-MMT-0.8, MAD-MMT-2.5, IQR-MMT-1.5 and LR-MMT-1.2 within 5 % on energy, migrations, SLAV and ESV on every day, with no systematic sign. THR-MMT-1.0 is shown for information.",
    "",
    "| policy | day | energy | migrations | SLAV | ESV |",
    "|---|---|---|---|---|---|",
  );
  for (const f of fid) lines.push(`| ${f.policy} | ${f.day} | ${fmtR(f.r.energyKWh)} | ${fmtR(f.r.migrations)} | ${fmtR(f.r.slav)} | ${fmtR(f.r.esv)} |`);
  lines.push("");
  const fidSummary = FIDELITY_METRICS.map((k) => {
    const xs = inTarget.map((f) => f.r[k]);
    const within = xs.filter((x) => Math.abs(x - 1) <= 0.05).length;
    const above = xs.filter((x) => x > 1).length;
    const geo = Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
    return { metric: k, within, n: xs.length, min: Math.min(...xs), max: Math.max(...xs), above, geo };
  });
  lines.push("| metric | within 5 % | range | above 1 / below 1 | geometric mean |", "|---|---|---|---|---|");
  for (const f of fidSummary)
    lines.push(`| ${f.metric} | ${f.within} / ${f.n} | ${f.min.toFixed(3)} – ${f.max.toFixed(3)} | ${f.above} / ${f.n - f.above} | ${f.geo.toFixed(3)} |`);
  const fidelityMet = fidSummary.every((f) => f.within === f.n);
  lines.push("", `- Target 1 (every ratio within 5 %): ${verdict(fidelityMet)} (${fidSummary.map((f) => `${f.metric} ${f.within}/${f.n}`).join(", ")}).`);

  // --- forecast policy ---
  lines.push("", "## The forecast policy, judged fairly", "");
  lines.push(
    `Its setting is chosen on ${tuneDays.join(", ")} only: among the ${GRID.length} settings below, the lowest median energy among those that, on every one of these days, have lower SLAV, ESV and migrations than CloudSim 3.0.3's LR-MMT-1.2 and no more under-delivered CPU and no more energy than this simulator's LR-MMT-1.2. The held-out days ${heldOutDays.join(", ")} are reported separately and played no part in the choice.`,
    "",
    "| setting | tuning days: energy kWh (median) | passes on tuning days | failures |",
    "|---|---|---|---|",
  );
  for (const g of gridChecks.sort((a, b) => a.tuneEnergy - b.tuneEnergy))
    lines.push(
      `| ${g.spec.label}${chosen === g ? " **(chosen)**" : ""} | ${g.tuneEnergy.toFixed(2)} | ${g.tune.filter((c) => c.ok).length} / ${g.tune.length} | ${g.tune.flatMap((c) => c.failed.map((f) => `${c.day}: ${f}`)).join("; ") || "–"} |`,
    );
  lines.push(
    "",
    chosen
      ? `- Chosen: ${JSON.stringify(chosen.spec.args)}. The \`forecast\` preset ${presetIsChosen ? "is this setting" : `is **not** this setting (${JSON.stringify(presetArgs)})`}.`
      : "- **No setting of the grid passes on every tuning day.**",
  );
  const dayRow = (d: string) => {
    const r = ours("forecast", d);
    const l = ours("LR-MMT-1.2", d);
    const c = csOf("LR-MMT-1.2", d);
    const chk = fcChecks.find((x) => x.day === d)!;
    return `| ${d} | ${r.energyKWh.toFixed(2)} / ${l.energyKWh.toFixed(2)} | ${r.migrations} / ${c?.migrations ?? "–"} | ${sci(r.slav)} / ${sci(c?.slav ?? NaN)} | ${sci(r.esv)} / ${sci(c?.esv ?? NaN)} | ${pct3(r.overallUnderAllocation)} / ${pct3(l.overallUnderAllocation)} | ${pct(r.unmetVmTimeShare)} / ${pct(l.unmetVmTimeShare)} | ${pct(r.slatah)} | ${chk.ok ? "yes" : `**no**: ${chk.failed.join("; ")}`} |`;
  };
  const head =
    "| day | energy kWh: forecast / our LR | migrations: forecast / CloudSim LR | SLAV: forecast / CloudSim LR | ESV: forecast / CloudSim LR | under-delivered: forecast / our LR | VM-time unmet: forecast / our LR | forecast SLATAH | all met |";
  lines.push("", "The `forecast` preset on the tuning days:", "", head, "|---|---|---|---|---|---|---|---|---|", ...tuneDays.map(dayRow));
  lines.push("", "The `forecast` preset on the held-out days:", "", head, "|---|---|---|---|---|---|---|---|---|", ...heldOutDays.map(dayRow));
  const fcAll = fcChecks.every((c) => c.ok);
  lines.push(
    "",
    `- Target 3 on PlanetLab (every day): ${verdict(fcAll)} — tuning days ${fcChecks.filter((c) => tuneDays.includes(c.day) && c.ok).length}/${tuneDays.length}, held-out days ${fcChecks.filter((c) => heldOutDays.includes(c.day) && c.ok).length}/${heldOutDays.length}.`,
  );
  const gridMed = GRID.map((g) => mediansOf(grid, g.label!));
  const fc = plMed.find((m) => m.policy === "forecast")!;
  lines.push(
    `- Against published LR-MMT-1.2 (medians over 10 days of another set-up): SLAV ${sci(fc.slav)} vs ${sci(pub.slav)}, ESV ${sci(fc.esv)} vs ${sci(pub.esv)}, migrations ${fc.migrations.toFixed(0)} vs ${pub.migrations}, energy ${fc.energyKWh.toFixed(2)} vs ${pub.energy} kWh.`,
  );
  lines.push(
    `- Energy floor (fluid, clairvoyant, free migrations, all load on the most efficient host type): at 100 % utilization ${floors.map((f) => f.full.toFixed(1)).join(" / ")} kWh; at 90 % ${floors.map((f) => f.headroom10.toFixed(1)).join(" / ")} kWh.`,
  );
  lines.push(
    `- One planning round, 1,000 hosts × 20,000 containers (target < 1 s): ${planning.map((p) => `${p.policy} ${p.ms.toFixed(0)} ms (${p.moves} moves)`).join("; ")}.`,
  );
  lines.push("", "Every setting of the grid, medians over all days (plots: placement-frontier.svg, placement-underdelivered.svg):", "");
  lines.push(
    "| setting | energy kWh | migrations | SLATAH | PDM | SLAV | ESV | under-delivered CPU | VM-time unmet |",
    "|---|---|---|---|---|---|---|---|---|",
  );
  for (const m of [...gridMed, { ...fc, policy: "forecast (preset)" }, lr])
    lines.push(
      `| ${m.policy} | ${m.energyKWh.toFixed(2)} | ${m.migrations.toFixed(0)} | ${pct(m.slatah)} | ${pct(m.pdm)} | ${sci(m.slav)} | ${sci(m.esv)} | ${pct3(m.underDelivered)} | ${pct(m.unmetShare)} |`,
    );
  const clsLr = cloudsim.get("LR-MMT-1.2");
  const frontierSvg = scatterChart(
    "Energy vs SLAV, PlanetLab preset (medians over the days)",
    "energy (kWh per day)",
    "SLAV (log scale)",
    [
      { name: "Herd forecast, grid settings", x: gridMed.map((m) => m.energyKWh), y: gridMed.map((m) => m.slav) },
      { name: "Herd forecast preset", x: [fc.energyKWh], y: [fc.slav] },
      { name: "LR-MMT-1.2, this simulator", x: [lr.energyKWh], y: [lr.slav] },
      ...(clsLr ? [{ name: "LR-MMT-1.2, CloudSim 3.0.3", x: [clsLr.energyKWh], y: [clsLr.slav] }] : []),
      { name: "LR-MMT-1.2, published", x: [pub.energy], y: [pub.slav] },
    ],
    { logY: true },
  );
  const consolidationMed = plMed.filter((m) => m.policy.includes("-MMT-"));
  const underSvg = scatterChart(
    "Energy vs under-delivered CPU, PlanetLab preset (medians over the days)",
    "energy (kWh per day)",
    "under-delivered CPU (% of requested, log scale)",
    [
      { name: "Herd forecast, grid settings", x: gridMed.map((m) => m.energyKWh), y: gridMed.map((m) => m.underDelivered * 100) },
      { name: "Herd forecast preset", x: [fc.energyKWh], y: [fc.underDelivered * 100] },
      ...consolidationMed.map((m) => ({ name: `${m.policy}, this simulator`, x: [m.energyKWh], y: [m.underDelivered * 100] })),
    ],
    { logY: true },
  );

  // --- live cluster ---
  lines.push("", "## Live-cluster defaults", "");
  lines.push(
    `${LIVE_CLUSTER_DEFAULTS.nodes} nodes × ${LIVE_CLUSTER_DEFAULTS.coresPerNode} cores, ${LIVE_CLUSTER_DEFAULTS.containers} one-core containers (first trace files of each day), ${LIVE_CLUSTER_DEFAULTS.transferMBps} MB/s migrations, round-robin start. Medians over the days; overload = host-hours with less CPU than requested.`,
    "",
  );
  lines.push(
    "| policy | SLATAH | migrations | overload host-h | PDM | under-delivered CPU | VM-time unmet | energy kWh |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const m of liveMed)
    lines.push(
      `| ${m.policy} | ${pct(m.slatah)} | ${m.migrations.toFixed(0)} | ${m.overloadHours.toFixed(2)} | ${pct(m.pdm)} | ${pct3(m.underDelivered)} | ${pct(m.unmetShare)} | ${m.energyKWh.toFixed(2)} |`,
    );
  const liveOf = (p: string, d: string) => live.find((r) => r.policy === p && r.workload === `live-cluster-${d}`)!;
  const liveDays = dayNames.map((d) => {
    const f = liveOf("forecast", d);
    const t = liveOf("threshold", d);
    return { d, f, t, ok: f.slatah <= t.slatah && f.migrations <= t.migrations };
  });
  lines.push(
    "",
    `- Target 3, live cluster (forecast no more SLATAH and no more migrations than threshold, every day): ${verdict(liveDays.every((x) => x.ok))} — ${liveDays.map((x) => `${x.d}: SLATAH ${pct(x.f.slatah)} vs ${pct(x.t.slatah)}, migrations ${x.f.migrations} vs ${x.t.migrations}`).join("; ")}.`,
  );

  lines.push("", "## How close to CloudSim 3.0.3, and why", "");
  lines.push(SIMULATOR_NOTES);
  lines.push("", "## Reproduce any row", "");
  lines.push(
    "Each run below is one `herd simulate` command (the report it writes has the same figures), e.g.:",
    "",
    "```",
    reproduce("planetlab", dayNames[0]!, POLICY_PRESETS["LR-MMT-1.2"]!, "LR-MMT-1.2"),
    reproduce("planetlab", dayNames[0]!, GRID[0]!, "forecast"),
    reproduce("live-cluster", dayNames[0]!, POLICY_PRESETS["forecast-live"]!, "forecast-live"),
    "```",
    "",
  );
  lines.push("## Every run", "", resultsTable([...planetlab, ...grid, ...live]), "");
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
  await writeFile(join(OUT, "placement-underdelivered.svg"), underSvg);
  await writeFile(
    join(OUT, "placement.json"),
    JSON.stringify(
      {
        days: dayNames,
        order: ORDER,
        tuneDays,
        heldOutDays,
        planetlabMedians: plMed,
        liveClusterMedians: liveMed,
        cloudsim: csRows,
        fidelity: fid,
        fidelitySummary: fidSummary,
        forecastGrid: gridChecks.map((g) => ({ setting: g.spec, tuneEnergyKWh: g.tuneEnergy, tuneChecks: g.tune })),
        forecastChosen: chosen?.spec ?? null,
        forecastPresetIsChosen: presetIsChosen,
        forecastChecks: fcChecks,
        liveClusterChecks: liveDays.map((x) => ({ day: x.d, ok: x.ok })),
        published: PUBLISHED,
        planning,
        energyFloors: floors,
        runs: [...planetlab, ...grid, ...live].map(({ timeline: _t, ...r }) => r),
      },
      null,
      2,
    ),
  );
  console.log(md.split("## How close")[0]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
