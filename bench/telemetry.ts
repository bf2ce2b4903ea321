// npm run bench:telemetry — what one telemetry round costs with Herd's sampler (cgroup files and
// /proc read directly) versus Docker's stats API (what `docker stats` uses), on the same idle
// containers of a private engine, at N = 50 and 200 containers. Writes bench/results/telemetry.{md,json}.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { createLogger } from "../shared/src/logger.js";
import { CgroupMetricSource } from "../services/compute-agent/src/metrics/cgroup-metric-source.js";
import { DockerStatsMetricSource } from "../services/compute-agent/src/metrics/docker-stats-metric-source.js";
import type { MetricSource, SampleTarget } from "../services/compute-agent/src/metrics/metric-source.js";
import { RateCalculator } from "../services/compute-agent/src/metrics/rate-calculator.js";
import { PrivateDockerEngine } from "../test/integration/metrics-private-engine.js";

const log = createLogger().child({ component: "bench-telemetry" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INTERVAL_MS = 1000;

interface Row {
  n: number;
  method: string;
  rounds: number;
  failures: number;
  /** Process CPU of the agent (this process) over the whole run, per round, including timers and GC. */
  agentCpuMsPerRound: number;
  /** agentCpuMsPerRound as a share of one core at one round per second. */
  agentPctOfCoreAt1s: number;
  /** CPU spent inside sample() + rate calculation only, per container. */
  agentUsPerContainerSample: number;
  wallMsPerRound: number;
  /** dockerd + containerd + shims CPU during the run, per container-sample. */
  daemonUsPerContainerSample: number;
  /** The same minus what the idle daemon burns anyway (measured during Herd's rounds, which never call it). */
  daemonAboveIdleUsPerContainerSample: number;
  /** Agent sampling CPU + daemon CPU above idle, per container-sample: what sampling costs the node. */
  totalUsPerContainerSample: number;
  /** totalUsPerContainerSample relative to Herd's sampler at 1 s rounds for the same N. */
  vsHerd: number;
  seconds: number;
  daemonCpuUs: number;
}

const cpuMicros = (u: NodeJS.CpuUsage) => u.user + u.system;

/**
 * Runs `rounds` telemetry rounds, one per INTERVAL_MS (or back to back when a round is slower),
 * measuring this process's CPU and the daemon's.
 */
async function runMethod(
  method: string,
  source: MetricSource,
  targets: SampleTarget[],
  rounds: number,
  engine: PrivateDockerEngine,
  intervalMs = INTERVAL_MS,
): Promise<Row> {
  const rates = new RateCalculator();
  // Warm-up: resolve cgroup paths, open connections, JIT.
  rates.update(await source.sample(targets));
  const daemonPids = engine.daemonPids();
  let sampleCpuUs = 0;
  let wallMs = 0;
  let failures = 0;
  const daemonBefore = engine.daemonCpuSeconds(daemonPids);
  const processBefore = process.cpuUsage();
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const roundStart = performance.now();
    const cpuBefore = process.cpuUsage();
    const raw = await source.sample(targets);
    rates.update(raw);
    sampleCpuUs += cpuMicros(process.cpuUsage(cpuBefore));
    wallMs += performance.now() - roundStart;
    failures += raw.failures.length;
    const next = start + (r + 1) * intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const processCpuUs = cpuMicros(process.cpuUsage(processBefore));
  const seconds = (performance.now() - start) / 1000;
  const daemonUs = (engine.daemonCpuSeconds(daemonPids) - daemonBefore) * 1e6;
  const samples = rounds * targets.length;
  const agentUsPerSample = sampleCpuUs / samples;
  const row: Row = {
    n: targets.length,
    method,
    rounds,
    failures,
    agentCpuMsPerRound: processCpuUs / rounds / 1000,
    agentPctOfCoreAt1s: (processCpuUs / rounds / 1000 / INTERVAL_MS) * 100,
    agentUsPerContainerSample: agentUsPerSample,
    wallMsPerRound: wallMs / rounds,
    daemonUsPerContainerSample: daemonUs / samples,
    // Filled in by withBaseline() once the idle daemon's rate is known.
    daemonAboveIdleUsPerContainerSample: NaN,
    totalUsPerContainerSample: NaN,
    vsHerd: NaN,
    seconds,
    daemonCpuUs: daemonUs,
  };
  log.info("Measured", { ...row });
  return row;
}

/**
 * Herd's rounds never call the daemon, so the daemon CPU measured meanwhile is its idle rate;
 * each row's daemon cost above that rate is what sampling made the daemon do.
 */
function withBaseline(rows: Row[], idleDaemonUsPerSecond: number, herdTotal: number): void {
  for (const r of rows) {
    const samples = r.rounds * r.n;
    r.daemonAboveIdleUsPerContainerSample = Math.max(0, r.daemonCpuUs - idleDaemonUsPerSecond * r.seconds) / samples;
    r.totalUsPerContainerSample = r.agentUsPerContainerSample + r.daemonAboveIdleUsPerContainerSample;
    r.vsHerd = r.totalUsPerContainerSample / herdTotal;
  }
}

/** Starts idle containers until `n` run, `batch` at a time. */
async function growTo(engine: PrivateDockerEngine, image: string, cmd: string[], targets: SampleTarget[], n: number, batch: number): Promise<void> {
  const t0 = performance.now();
  const from = targets.length;
  while (targets.length < n) {
    const count = Math.min(batch, n - targets.length);
    const base = targets.length;
    const started = await Promise.all(Array.from({ length: count }, (_, i) => engine.run(`idle-${base + i}`, image, cmd, 16 * 1024 * 1024)));
    targets.push(...started);
  }
  log.info("Containers running", { n, started: n - from, seconds: ((performance.now() - t0) / 1000).toFixed(1) });
}

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "–";
}

function markdown(rows: Row[], meta: Record<string, unknown>): string {
  const lines = [
    "# Telemetry sampling cost: Herd's cgroup sampler vs Docker's stats API",
    "",
    `Generated by \`npm run bench:telemetry\` on ${String(meta.date)} (${String(meta.cpus)} cores, kernel cgroup v${String(meta.cgroupVersion)}, Docker ${String(meta.dockerVersion)}).`,
    `Idle containers (\`--network none\`, 16 MiB limit) on one private engine; one round per ${INTERVAL_MS} ms.`,
    "",
    "| N | method | rounds | agent CPU ms/round | agent % of one core at 1 s | agent µs / container-sample | daemon µs / container-sample (raw) | daemon µs / container-sample above idle | total µs / container-sample | ratio to herd | wall ms/round | failures |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const backToBack = r.method.endsWith("back-to-back");
    lines.push(
      `| ${r.n} | ${r.method} | ${r.rounds} | ${fmt(r.agentCpuMsPerRound, 2)} | ${backToBack ? "(n/a)" : fmt(r.agentPctOfCoreAt1s, 2)} | ${fmt(r.agentUsPerContainerSample)} | ${fmt(r.daemonUsPerContainerSample)} | ${fmt(r.daemonAboveIdleUsPerContainerSample)} | ${fmt(r.totalUsPerContainerSample)} | ${fmt(r.vsHerd, r.vsHerd < 10 ? 1 : 0)}× | ${fmt(r.wallMsPerRound)} | ${r.failures} |`,
    );
  }
  lines.push(
    "",
    "- **agent CPU ms/round**: this process's CPU (user+system, `process.cpuUsage`) over all rounds, divided by rounds — includes timers and GC, so it is what the agent would pay.",
    "- **agent µs / container-sample**: CPU measured around `sample()` + `RateCalculator.update()` only, divided by rounds × N.",
    "- **daemon µs / container-sample (raw)**: utime+stime (+ reaped children) of this engine's dockerd, containerd and containerd-shims from `/proc/<pid>/stat` over the same rounds (10 ms tick resolution), divided by rounds × N. During `herd-cgroup` rounds, which never call the daemon, this is the idle daemon's background cost; **above idle** subtracts that rate (per second) from the other rows.",
    "- **total µs / container-sample** = agent µs + daemon µs above idle; **ratio to herd** divides it by Herd's at 1 s rounds for the same N.",
    "- `herd-cgroup back-to-back` runs the same rounds without waiting (warm caches): the sampler's steady-state cost; the 1 s rows are what a real agent sees (cold caches every second).",
    "- `docker-stats stream=false` is `GET /containers/<id>/stats?stream=false` (what `docker stats --no-stream` uses); the daemon waits for two collection ticks before answering. `one-shot` adds `one-shot=true` (API ≥ 1.41), one immediate collection: Docker at its cheapest. All N requests of a round run concurrently.",
    "- The machine is shared with other work while the bench runs, so absolute numbers carry noise; the ratios are the point.",
  );
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const program = new Command()
    .option("--sizes <list>", "container counts", "50,200")
    .option("--rounds <n>", "rounds for Herd's sampler", "30")
    .option("--docker-rounds <n>", "rounds for each Docker stats method", "10")
    .option("--batch <n>", "containers started concurrently", "10")
    .parse();
  const opts = program.opts<{ sizes: string; rounds: string; dockerRounds: string; batch: string }>();
  const sizes = opts.sizes
    .split(",")
    .map(Number)
    .sort((a, b) => a - b);
  const rounds = Number(opts.rounds);
  const dockerRounds = Number(opts.dockerRounds);
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/bench/telemetry.js → <repo>/bench/results
  const resultsDir = join(here, "..", "..", "bench", "results");

  const engine = new PrivateDockerEngine({ name: "herd-tel-bench", logger: createLogger() });
  const rows: Row[] = [];
  const benchStart = performance.now();
  let dockerVersion = "?";
  let cgroupVersion: 1 | 2 = 1;
  try {
    await engine.start();
    dockerVersion = (await engine.docker.version()).Version;
    const image = await engine.ensureImage();
    const herd = new CgroupMetricSource();
    cgroupVersion = herd.version;
    const targets: SampleTarget[] = [];
    for (const n of sizes) {
      await growTo(engine, image.image, image.idleCmd, targets, n, Number(opts.batch));
      await sleep(3000); // let start-up work in the daemon settle
      const herdRow = await runMethod("herd-cgroup", herd, targets, rounds, engine);
      const sizeRows = [
        herdRow,
        await runMethod("herd-cgroup back-to-back", herd, targets, rounds * 5, engine, 0),
        await runMethod("docker-stats stream=false", new DockerStatsMetricSource(engine.docker), targets, dockerRounds, engine),
        await runMethod("docker-stats one-shot", new DockerStatsMetricSource(engine.docker, { oneShot: true }), targets, dockerRounds, engine),
      ];
      const idleDaemonUsPerSecond = herdRow.daemonCpuUs / herdRow.seconds;
      withBaseline(sizeRows, idleDaemonUsPerSecond, herdRow.agentUsPerContainerSample);
      // Herd's own rows: by construction it costs the daemon nothing above idle.
      herdRow.daemonAboveIdleUsPerContainerSample = 0;
      herdRow.totalUsPerContainerSample = herdRow.agentUsPerContainerSample;
      herdRow.vsHerd = 1;
      rows.push(...sizeRows);
      log.info("Idle daemon", { n, cpuPctOfCore: (idleDaemonUsPerSecond / 1e4).toFixed(2) });
    }
  } finally {
    log.info("Cleaning up the engine and its containers");
    await engine.stop();
  }
  const meta = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cgroupVersion,
    dockerVersion,
    intervalMs: INTERVAL_MS,
    totalSeconds: Math.round((performance.now() - benchStart) / 1000),
  };
  const md = markdown(rows, meta);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "telemetry.md"), md);
  writeFileSync(join(resultsDir, "telemetry.json"), JSON.stringify({ meta, rows }, null, 2) + "\n");
  process.stdout.write(md);
  log.info("Wrote results", { dir: resultsDir, seconds: meta.totalSeconds });
}

main().catch((err: unknown) => {
  log.error("bench:telemetry failed", { error: err instanceof Error ? err.stack : String(err) });
  process.exitCode = 1;
});
