/**
 * `npm run bench:jobs`: FF, BF, FFD and BFD side by side on the same generated workload.
 *  1. Simulation: 1,000 nodes × 50,000 jobs through the same packing functions the control
 *     service uses — nodes used, utilisation, queue wait, refused, placement decisions per second.
 *  2. Live (skip with --sim-only): a 3-node local cluster (`herd up`-style, 2 CPUs + 2 GiB offered
 *     per node), a few hundred short jobs per policy through the stress client; then the API alone
 *     (placement held) at 250 submissions/s for the ≥ 200/s, p99 < 100 ms target.
 *     Takes the shared cluster: run it with no other local cluster up: `npm run bench:jobs`.
 * Writes bench/results/jobs.{md,json} and SVG plots.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpStressTarget, runStress, type StressResult } from "../services/cli/src/stress/stress-run.js";
import { stressReport, type StressSummary } from "../services/cli/src/stress/stress-report.js";
import { DEFAULT_MIX } from "../services/cli/src/stress/arrivals.js";
import { LocalCluster } from "../services/cli/src/local-cluster/local-cluster.js";
import { generateJobWorkload, simulateJobs, type JobSimResult } from "../services/control/src/jobs/job-simulation.js";
import { PACKING_POLICIES, type PackingPolicy } from "../services/control/src/placement/bin-packing.js";
import { barChart } from "../services/control/src/simulator/svg-chart.js";

const OUT = resolve(process.env.HERD_BENCH_OUT ?? "bench/results");
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const args = new Set(process.argv.slice(2));
const NODES = 1000;
const JOBS = 50_000;
const SEED = 1;

function simulate(): { results: JobSimResult[]; genSeconds: number } {
  const t0 = performance.now();
  const w = generateJobWorkload({ nodeCount: NODES, jobCount: JOBS, seed: SEED });
  const genSeconds = (performance.now() - t0) / 1000;
  const results: JobSimResult[] = [];
  for (const p of PACKING_POLICIES) {
    const r = simulateJobs(w, p);
    console.error(`sim ${p}: ${r.decisionsPerSecond.toFixed(0)} decisions/s, mean wait ${r.meanQueueWaitS.toFixed(1)} s, nodes ${r.meanNodesUsed.toFixed(1)}`);
    results.push(r);
  }
  return { results, genSeconds };
}

interface LiveResult {
  policies: { policy: PackingPolicy; run: StressResult; summary: StressSummary; nodesUsedPeak: number }[];
  api: { run: StressResult; summary: StressSummary };
}

async function live(): Promise<LiveResult> {
  const cluster = new LocalCluster({ repoRoot, log: (l) => console.error(l) });
  if (cluster.info()) throw new Error("a local cluster is already up: run `herd down` first (the bench brings up its own 3 nodes)");
  const info = await cluster.up({ nodes: 3, capacity: { n1: { cpus: 2, memoryMb: 2048 }, n2: { cpus: 2, memoryMb: 2048 }, n3: { cpus: 2, memoryMb: 2048 } } });
  try {
    const target = new HttpStressTarget(info.apiUrl, info.apiToken);
    const put = async (body: object) => {
      const r = await fetch(new URL("/api/v1/scheduler", info.apiUrl), {
        method: "PUT",
        headers: { authorization: `Bearer ${info.apiToken}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`PUT /scheduler: HTTP ${r.status}`);
    };
    // Wait until the three nodes report their capacity.
    for (let i = 0; ; i++) {
      const r = await fetch(new URL("/api/v1/scheduler", info.apiUrl), { headers: { authorization: `Bearer ${info.apiToken}` } });
      const s = (await r.json()) as { nodes: { status: string; source: string }[] };
      if (s.nodes.length === 3 && s.nodes.every((n) => n.status === "up" && n.source === "heartbeat")) break;
      if (i > 120) throw new Error("nodes did not report their capacity within 60 s");
      await new Promise((res) => setTimeout(res, 500));
    }
    const policies: LiveResult["policies"] = [];
    const mix = { ...DEFAULT_MIX, cpus: [0.25, 0.5, 1], memoryMb: [32, 64, 128], runSeconds: [1, 3] as const };
    for (const policy of PACKING_POLICIES) {
      await put({ policy, paused: false });
      const run = await runStress(target, {
        label: policy,
        pattern: "random",
        rate: 2.5,
        durationS: 40,
        seed: SEED,
        mix,
        settleTimeoutMs: 180_000,
        cleanup: false,
        namePrefix: `bench-${policy}`,
        onProgress: (l) => console.error(`${policy}: ${l}`),
      });
      const nodesUsedPeak = peakNodesUsed(run);
      for (const j of run.jobs) await target.remove(j.id).catch(() => undefined);
      policies.push({ policy, run, summary: stressReport([run]).summaries[0]!, nodesUsedPeak });
    }
    const apiRun = await runStress(target, {
      label: "API alone",
      pattern: "steady",
      rate: 250,
      durationS: 10,
      seed: SEED,
      mix,
      settleTimeoutMs: 0,
      hold: true,
      namePrefix: "bench-api",
    });
    return { policies, api: { run: apiRun, summary: stressReport([apiRun]).summaries[0]! } };
  } finally {
    await cluster.down().catch((err: unknown) => console.error(`herd down failed: ${String(err)}`));
  }
}

/** The most nodes holding a running job at any one time, from the records' running/finished times. */
function peakNodesUsed(run: StressResult): number {
  const events: { t: number; node: string; d: number }[] = [];
  for (const j of run.jobs) {
    if (j.runningAt === undefined) continue;
    for (const t of j.tasks) if (t.nodeId) events.push({ t: j.runningAt, node: t.nodeId, d: 1 }, { t: j.finishedAt ?? Infinity, node: t.nodeId, d: -1 });
  }
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  const count = new Map<string, number>();
  let peak = 0;
  for (const e of events) {
    count.set(e.node, (count.get(e.node) ?? 0) + e.d);
    peak = Math.max(peak, [...count.values()].filter((c) => c > 0).length);
  }
  return peak;
}

function simTable(rs: readonly JobSimResult[]): string[] {
  return [
    "| policy | nodes used (mean) | nodes used (peak) | CPU reserved on used nodes | cluster CPU reserved | cluster memory reserved | mean queue wait s | p95 queue wait s | placed at once | refused (422) | placed | decisions | decisions/s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rs.map(
      (r) =>
        `| ${r.policy.toUpperCase()} | ${r.meanNodesUsed.toFixed(1)} | ${r.peakNodesUsed} | ${(100 * r.meanUtilisationOfUsed).toFixed(1)} % | ${(100 * r.meanClusterUtilisation).toFixed(1)} % | ${(100 * r.meanClusterMemoryUtilisation).toFixed(1)} % | ${r.meanQueueWaitS.toFixed(1)} | ${r.p95QueueWaitS.toFixed(1)} | ${r.placedImmediately} | ${r.refused} | ${r.placed} | ${r.decisions} | ${Math.round(r.decisionsPerSecond).toLocaleString("en-US")} |`,
    ),
  ];
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const sim = simulate();
  const liveResult = args.has("--sim-only") ? undefined : await live();
  const slowest = Math.min(...sim.results.map((r) => r.decisionsPerSecond));
  const md: string[] = [
    "# bench:jobs — FF, BF, FFD, BFD",
    "",
    `Command: \`${args.has("--sim-only") ? "npm run bench:jobs -- --sim-only" : "npm run bench:jobs"}\` (2-core VM shared with other work). Seed ${SEED}.`,
    "",
    `## Simulation: ${NODES.toLocaleString("en-US")} nodes × ${JOBS.toLocaleString("en-US")} jobs`,
    "",
    "The packing functions of the control service (services/control/src/placement/bin-packing.ts) on a generated cluster and workload " +
      "(services/control/src/jobs/job-simulation.ts): nodes of 8/16/32/64 cores with 4 GiB per core; 1–4 containers per job, 0.5–16 CPUs each, " +
      "1–8 GiB per CPU, exponential run times (mean 600 s), Poisson arrivals whose rate swings ±60 % so queues build and drain, offered CPU ≈85 % of capacity while arriving " +
      "(memory asks average 4.5 GiB per CPU against 4 GiB per core, so memory binds first; the averages include the final drain after the last arrival); " +
      "0.2 % of jobs ask for 128 CPUs (more than any node) and are refused. One placement round per simulated second over the whole waiting batch, as live.",
    "",
    ...simTable(sim.results),
    "",
    `Target ≥ 2,000 placement decisions/s at 1,000 nodes: slowest policy ${Math.round(slowest).toLocaleString("en-US")}/s (${(slowest / 2000).toFixed(0)}× the target). ` +
      "A decision is one job considered in a round (placed or left waiting); its time includes building the round's view of 1,000 nodes.",
    "",
    "![nodes used](jobs-sim-nodes.svg) ![queue wait](jobs-sim-wait.svg) ![utilisation](jobs-sim-utilisation.svg)",
    "",
  ];
  const svgs: Record<string, string> = {
    "jobs-sim-nodes.svg": barChart(
      "Nodes in use (time-averaged)",
      "nodes",
      sim.results.map((r) => ({ label: r.policy.toUpperCase(), value: r.meanNodesUsed })),
    ),
    "jobs-sim-wait.svg": barChart(
      "Mean queue wait",
      "seconds",
      sim.results.map((r) => ({ label: r.policy.toUpperCase(), value: r.meanQueueWaitS })),
    ),
    "jobs-sim-utilisation.svg": barChart(
      "Reserved CPU on nodes in use",
      "%",
      sim.results.map((r) => ({ label: r.policy.toUpperCase(), value: 100 * r.meanUtilisationOfUsed })),
    ),
  };
  if (liveResult) {
    const report = stressReport(
      liveResult.policies.map((p) => p.run),
      "live",
    );
    for (const [k, v] of Object.entries(report.svgs)) svgs[k.replace("stress-", "jobs-live-")] = v;
    const api = liveResult.api.summary;
    md.push(
      "## Live: 3-node local cluster",
      "",
      "Each node offers 2 CPUs and 2 GiB (`herd up --capacity 2:2048`-style). Per policy: the stress client's random (Poisson) pattern at 2.5 jobs/s for 40 s, " +
        "jobs of 0.25/0.5/1 CPU and 32/64/128 MiB sleeping 1–3 s (`herd/workload` busybox), all through POST /api/v1/jobs.",
      "",
      "| policy | submitted | succeeded | failed | unfinished | submit p50 ms | submit p99 ms | queue wait p50 ms | queue wait p99 ms | to running p50 ms | to running p99 ms | peak nodes with a running job |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...liveResult.policies.map(
        (p) =>
          `| ${p.policy.toUpperCase()} | ${p.summary.submitted} | ${p.summary.succeeded} | ${p.summary.failed} | ${p.summary.unfinished} | ${p.summary.latencyMs.p50.toFixed(1)} | ${p.summary.latencyMs.p99.toFixed(1)} | ${p.summary.queueWaitMs.p50.toFixed(0)} | ${p.summary.queueWaitMs.p99.toFixed(0)} | ${p.summary.timeToRunningMs.p50.toFixed(0)} | ${p.summary.timeToRunningMs.p99.toFixed(0)} | ${p.nodesUsedPeak} |`,
      ),
      "",
      "![submit latency](jobs-live-submit-latency.svg) ![time to running](jobs-live-time-to-running.svg) ![queue wait](jobs-live-queue-wait.svg)",
      "",
      "### The API alone",
      "",
      "Placement held (PUT /api/v1/scheduler {paused:true}), steady 250 submissions/s for 10 s, open loop; afterwards every submitted job is cancelled and removed.",
      "",
      `| submitted | accepted | HTTP errors | accepted /s | p50 ms | p95 ms | p99 ms | max ms |`,
      `|---|---|---|---|---|---|---|---|`,
      `| ${api.submitted} | ${api.accepted} | ${api.httpErrors} | ${api.achievedRate.toFixed(1)} | ${api.latencyMs.p50.toFixed(1)} | ${api.latencyMs.p95.toFixed(1)} | ${api.latencyMs.p99.toFixed(1)} | ${api.latencyMs.max.toFixed(1)} |`,
      "",
      `Target ≥ 200 submissions/s with p99 < 100 ms: ${api.achievedRate >= 200 && api.latencyMs.p99 < 100 ? "met" : "NOT met"} (${api.achievedRate.toFixed(0)}/s, p99 ${api.latencyMs.p99.toFixed(1)} ms).`,
      "",
    );
  }
  writeFileSync(join(OUT, "jobs.md"), md.join("\n"));
  writeFileSync(
    join(OUT, "jobs.json"),
    JSON.stringify(
      {
        simulation: { nodes: NODES, jobs: JOBS, seed: SEED, generateSeconds: sim.genSeconds, results: sim.results },
        ...(liveResult
          ? {
              live: {
                policies: liveResult.policies.map((p) => ({ policy: p.policy, summary: p.summary, nodesUsedPeak: p.nodesUsedPeak })),
                api: liveResult.api.summary,
              },
            }
          : {}),
      },
      null,
      1,
    ),
  );
  for (const [k, v] of Object.entries(svgs)) writeFileSync(join(OUT, k), v);
  console.log(md.join("\n"));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
