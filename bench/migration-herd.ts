/**
 * bench:migration, `herd migrate` case — frozen time through the very path users take: a real
 * two-node local cluster (herd up), the control service's saga over the broker, the agents'
 * handlers (runc dump, rsync, restore through linked images), in both modes side by side with the
 * raw CRIU floor, all in one run:
 *   floor:         the same memhold as a plain process: criu dump + cp + criu restore (same disk)
 *   stop-and-copy: `herd migrate` (the whole memory dumped and shipped while frozen)
 *   post-copy:     `herd migrate --mode post-copy` (runs on n2 at once, pulls its pages from n1's
 *                  CRIU page server); also reported: the time until the source is released (every
 *                  page on n2) and the workload's slowdown while its pages are pulled (memhold's
 *                  ticks per second and time per tick, from its progress lines, against the same
 *                  container before the move).
 *
 * For each memory size and each dirty rate, a `memhold` container holding that much memory
 * (rewriting MEMHOLD_DIRTY_MBPS MB/s of it) runs on n1 and is moved to n2 with `herd migrate`.
 * Reported: Herd's own frozen time (dump start on the source → running on the destination, agent
 * clocks) and total, the steps, `memhold verify` on the destination (same checksum as before),
 * and both agents' CPU time (theirs and their waited-for children's: runc, CRIU, rsync) and peak
 * RSS during the migration. The 1 MB case runs idle (dirty rate 0) only.
 *
 * Env: HERD_BENCH_HERD_SIZES (MB list, default "1,16,128,512"), HERD_BENCH_DIRTY_MBPS (list,
 * default "0,10"), HERD_BENCH_POST_COPY_MIN_MB (post-copy runs from this size on, default 128),
 * HERD_BENCH_OUT (default bench/results).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runChecked, runProcess } from "../shared/src/process/run-process.js";
import { dockerExec, engineOf, herd, herdJson, logsOf, newCluster, repoRoot, waitFor } from "../test/integration/support/cluster-harness.js";

interface StepView {
  name: string;
  startedAt: number;
  finishedAt?: number;
}
interface MigrationView {
  id: string;
  containerName: string;
  state: string;
  mode?: string;
  frozenAt?: number;
  runningAt?: number;
  sourceReleasedAt?: number;
  frozenMs?: number;
  totalMs?: number;
  bytes: number;
  steps: StepView[];
  notes?: string[];
}

interface AgentUse {
  cpuMs: number;
  childrenCpuMs: number;
  peakRssMB: number;
}

type Path = "floor" | "stop-and-copy" | "post-copy";

/** memhold's pace: ticks per second and dirtying time per tick (ms), over a window. */
interface Pace {
  ticksPerS: number;
  workMsPerTick: number;
}

interface Result {
  path: Path;
  mb: number;
  dirtyMBps: number;
  /** Post-copy: freeze start → every page on the destination (the source released). */
  sourceReleasedMs?: number | null;
  /** Post-copy: memhold's pace before the move and while its pages were pulled. */
  paceBefore?: Pace | null;
  pacePulling?: Pace | null;
  migrationId: string;
  frozenMs: number | null;
  totalMs: number | null;
  bytes: number;
  steps: Record<string, number>;
  verified: boolean;
  source: AgentUse;
  destination: AgentUse;
}

const cluster = newCluster();
function info() {
  const i = cluster.info();
  if (!i) throw new Error("cluster is not up");
  return i;
}

/** utime+stime and cutime+cstime of a process, in ms (USER_HZ 100). */
async function cpuOf(pid: number): Promise<{ own: number; children: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { own: (Number(f[11]) + Number(f[12])) * 10, children: (Number(f[13]) + Number(f[14])) * 10 };
}

async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/** Follows an agent's CPU and peak RSS until `stop` is called. */
async function watchAgent(node: string): Promise<() => Promise<AgentUse>> {
  const pid = Number((await readFile(`/run/herd/agent-${node}.pid`, "utf8")).trim());
  const c0 = await cpuOf(pid);
  let peak = await rssMB(pid);
  const timer = setInterval(
    () =>
      void rssMB(pid).then(
        (r) => (peak = Math.max(peak, r)),
        () => undefined,
      ),
    100,
  );
  return async () => {
    clearInterval(timer);
    const c1 = await cpuOf(pid);
    return { cpuMs: c1.own - c0.own, childrenCpuMs: c1.children - c0.children, peakRssMB: Math.max(peak, await rssMB(pid)) };
  };
}

/** memhold's "progress at_ms=… ticks=… work_ms=…" lines. */
function progressLines(logs: string): Array<{ at: number; ticks: number; workMs: number }> {
  return [...logs.matchAll(/^progress at_ms=(\d+) ticks=(\d+) work_ms=([\d.]+)$/gm)].map((m) => ({
    at: Number(m[1]),
    ticks: Number(m[2]),
    workMs: Number(m[3]),
  }));
}

/** Pace between the first and last progress line inside [from, to] (needs two). */
function paceIn(lines: Array<{ at: number; ticks: number; workMs: number }>, from: number, to: number): Pace | null {
  const inside = lines.filter((l) => l.at >= from && l.at <= to);
  const a = inside[0];
  const b = inside.at(-1);
  if (!a || !b || b.at <= a.at || b.ticks <= a.ticks) return null;
  return { ticksPerS: ((b.ticks - a.ticks) * 1000) / (b.at - a.at), workMsPerTick: (b.workMs - a.workMs) / (b.ticks - a.ticks) };
}

/** Deadline for one step of the floor (a hung CRIU or cp is killed with its process group). */
const STEP_TIMEOUT_MS = 300_000;

/**
 * The floor: memhold as a plain process on the host, `criu dump` + `cp -a` of the images +
 * `criu restore`, then `memhold verify` against its own checksum.
 */
async function floor(mb: number, dirty: number): Promise<Result> {
  const dir = `/tmp/herd-bench-floor-${process.pid}-${mb}`;
  const bin = `/tmp/herd-bench-memhold-${process.pid}`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "work"), { recursive: true });
  await mkdir(join(dir, "img"), { recursive: true });
  await runChecked("gcc", ["-O2", "-o", bin, join(repoRoot, "infra/workloads/memhold.c")], { timeoutMs: STEP_TIMEOUT_MS });
  const log = join(dir, "out.log");
  const fd = openSync(log, "w");
  const env = { MEMHOLD_DIRTY_MBPS: String(dirty), MEMHOLD_STATUS: join(dir, "status"), MEMHOLD_CHECK_S: "0" };
  // Own session, no pipes to us: CRIU needs no --shell-job.
  const child = spawn(bin, [String(mb), "42"], { detached: true, stdio: ["ignore", fd, fd], env });
  closeSync(fd);
  child.unref();
  const pid = child.pid ?? 0;
  try {
    const checksum = await waitFor("floor memhold ready", async () => /checksum=([0-9a-f]{16})/.exec(await readFile(log, "utf8"))?.[1], 120_000);
    const t0 = Date.now();
    await runChecked("criu", ["dump", "-t", String(pid), "-D", join(dir, "img"), "-W", join(dir, "work"), "-o", "dump.log"], { timeoutMs: STEP_TIMEOUT_MS });
    const dumpMs = Date.now() - t0;
    await runChecked("cp", ["-a", join(dir, "img"), join(dir, "img2")], { timeoutMs: STEP_TIMEOUT_MS });
    const copyMs = Date.now() - t0 - dumpMs;
    await runChecked("criu", ["restore", "-d", "-D", join(dir, "img2"), "-W", join(dir, "work"), "-o", "restore.log"], { timeoutMs: STEP_TIMEOUT_MS });
    const frozenMs = Date.now() - t0;
    // A failed verify still prints what it found; its stdout is the verdict either way.
    const v = (await runProcess(bin, ["verify", String(pid)], { env, timeoutMs: STEP_TIMEOUT_MS })).stdout;
    return {
      path: "floor",
      mb,
      dirtyMBps: dirty,
      migrationId: "-",
      frozenMs,
      totalMs: frozenMs,
      bytes: 0,
      steps: { dump: dumpMs, copy: copyMs, restore: frozenMs - dumpMs - copyMs },
      verified: v.includes(`ok ${checksum}`),
      source: { cpuMs: 0, childrenCpuMs: 0, peakRssMB: 0 },
      destination: { cpuMs: 0, childrenCpuMs: 0, peakRssMB: 0 },
    };
  } finally {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true });
    await rm(bin, { force: true });
  }
}

async function measure(mb: number, dirty: number, mode: "stop-and-copy" | "post-copy"): Promise<Result> {
  const name = `bench-mem-${mb}-${dirty}-${mode === "post-copy" ? "pc" : "sc"}`;
  const started = await herd(
    "run",
    "--node",
    "n1",
    "--name",
    name,
    "--network",
    "none",
    "herd/workload:latest",
    // Options end here: `-c` belongs to sh.
    "--",
    "sh",
    "-c",
    `MEMHOLD_DIRTY_MBPS=${dirty} MEMHOLD_PROGRESS_S=0.5 exec memhold ${mb} 42`,
  );
  // Not herdJson: its `-o json` would land after `--`, in memhold's command line.
  if (started.code !== 0) throw new Error(`herd run ${name}: ${started.stderr}`);
  const src = engineOf(info(), "n1");
  const checksum = await waitFor(`${name} ready`, async () => /checksum=([0-9a-f]{16})/.exec(await logsOf(src, name))?.[1], 120_000);
  // Control must see it running (its telemetry lags the engine) before it accepts the move.
  await waitFor(
    `${name} running in herd ps`,
    async () => (await herdJson<Array<{ name: string; state: string }>>("ps")).some((c) => c.name === name && c.state === "running"),
    60_000,
  );
  // A few seconds of steady pace on the source before the move.
  await waitFor(`${name} pace`, async () => progressLines(await logsOf(src, name)).length >= 6, 30_000);
  const before = progressLines(await logsOf(src, name));
  const tStart = Date.now();
  const stopSource = await watchAgent("n1");
  const stopDestination = await watchAgent("n2");
  const r = await herd("migrate", name, "--to", "n2", "--mode", mode);
  const source = await stopSource();
  const destination = await stopDestination();
  if (r.code !== 0) throw new Error(`herd migrate ${name}: ${r.stdout} ${r.stderr}`);
  const m = (await herdJson<MigrationView[]>("migrations")).filter((x) => x.containerName === name && x.state === "committed").at(-1);
  let postCopy: Pick<Result, "sourceReleasedMs" | "paceBefore" | "pacePulling"> = {};
  if (mode === "post-copy") {
    // Some progress lines after the release too, so the pulling window is bounded on both sides.
    await new Promise((res) => setTimeout(res, 1_500));
    const after = progressLines(await logsOf(engineOf(info(), "n2"), name));
    const frozenAt = m?.frozenAt ?? 0;
    const runningAt = m?.runningAt ?? 0;
    const released = m?.sourceReleasedAt ?? 0;
    postCopy = {
      sourceReleasedMs: m?.sourceReleasedAt && m.frozenAt ? released - frozenAt : null,
      paceBefore: paceIn(before, tStart - 4_000, tStart),
      // From the restore to the release; a window shorter than two progress lines says so (null).
      pacePulling: paceIn(after, runningAt, released + 250),
    };
  }
  const verify = await dockerExec(engineOf(info(), "n2"), name, ["memhold", "verify"]);
  const verified = verify.code === 0 && verify.output.includes(`ok ${checksum}`);
  const full = m ? await herdJson<MigrationView>("migrations", m.id) : undefined;
  // Memory back for the next case (control notices the container is gone).
  await engineOf(info(), "n2")
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
  return {
    path: mode,
    mb,
    dirtyMBps: dirty,
    ...postCopy,
    migrationId: m?.id ?? "?",
    frozenMs: m?.frozenMs ?? null,
    totalMs: m?.totalMs ?? null,
    bytes: m?.bytes ?? 0,
    steps: Object.fromEntries((full?.steps ?? []).filter((s) => s.finishedAt !== undefined).map((s) => [s.name, (s.finishedAt ?? s.startedAt) - s.startedAt])),
    verified,
    source,
    destination,
  };
}

function markdown(results: Result[], meta: Record<string, string>): string {
  const s = (v: number | null | undefined) => (v === null || v === undefined ? "—" : (v / 1000).toFixed(2));
  const floorOf = (r: Result) => results.find((f) => f.path === "floor" && f.mb === r.mb && f.dirtyMBps === r.dirtyMBps);
  const ratio = (r: Result) => {
    const f = floorOf(r);
    return r.path === "floor" || !f?.frozenMs || r.frozenMs === null ? "" : ` (${(r.frozenMs / f.frozenMs).toFixed(1)}× floor)`;
  };
  const sc = (r: Result) => results.find((x) => x.path === "stop-and-copy" && x.mb === r.mb && x.dirtyMBps === r.dirtyMBps);
  const pace = (p: Pace | null | undefined) => (p ? `${p.ticksPerS.toFixed(1)}/s, ${p.workMsPerTick.toFixed(2)} ms` : "—");
  const post = results.filter((r) => r.path === "post-copy");
  return [
    "# bench:migration — floor, `herd migrate` stop-and-copy and post-copy (memhold, dirty rates), one run",
    "",
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    "",
    "Frozen: for Herd, its own record (dump start on the source → the container running on the destination, agent clocks; it includes the broker round trips between freeze, install and restore); for the floor, criu dump + cp + criu restore of the same memhold as a plain process. Verified = `memhold verify` printed the checksum memhold printed before the move. Agent CPU = the agent process's own CPU time during the migration + its waited-for children (runc and the dump's CRIU, rsync); the restore's CRIU runs under containerd's shim, and in post-copy the page server (runc + CRIU, its own process group) and the lazy-pages daemon are not waited for by the agent's process either: they are not counted.",
    "",
    "| path | MB | dirty MB/s | frozen (s) | total (s) | moved (MB) | verified | source agent CPU own + children (s) | source peak RSS (MB) | destination agent CPU own + children (s) | destination peak RSS (MB) |",
    "|---|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.path} | ${r.mb} | ${r.dirtyMBps} | ${s(r.frozenMs)}${ratio(r)} | ${s(r.totalMs)} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${r.verified ? "yes" : "**NO**"} | ${r.path === "floor" ? "—" : `${(r.source.cpuMs / 1000).toFixed(2)} + ${(r.source.childrenCpuMs / 1000).toFixed(2)}`} | ${r.path === "floor" ? "—" : r.source.peakRssMB.toFixed(0)} | ${r.path === "floor" ? "—" : `${(r.destination.cpuMs / 1000).toFixed(2)} + ${(r.destination.childrenCpuMs / 1000).toFixed(2)}`} | ${r.path === "floor" ? "—" : r.destination.peakRssMB.toFixed(0)} |`,
    ),
    "",
    "## Post-copy against stop-and-copy",
    "",
    "Pace = memhold's ticks per second (10/s when nothing slows it: a 100 ms sleep per tick) and its time per tick spent rewriting pages, from its progress lines: before the move (the 4 s before `herd migrate`, on the source) and while its pages were pulled (restore → source released, on the destination; — when that window held fewer than two progress lines, 0.5 s apart).",
    "",
    "| MB | dirty MB/s | post-copy frozen (s) | stop-and-copy frozen (s) | post / stop | source released after (s) | pace before | pace while pulling | verified |",
    "|---:|---:|---:|---:|---:|---:|---|---|:---:|",
    ...post.map((r) => {
      const b = sc(r);
      const q = b?.frozenMs && r.frozenMs !== null ? (r.frozenMs / b.frozenMs).toFixed(2) : "—";
      return `| ${r.mb} | ${r.dirtyMBps} | ${s(r.frozenMs)} | ${s(b?.frozenMs)} | ${q} | ${s(r.sourceReleasedMs)} | ${pace(r.paceBefore)} | ${pace(r.pacePulling)} | ${r.verified ? "yes" : "**NO**"} |`;
    }),
    "",
    "## Steps (ms)",
    "",
    "| path | MB | dirty MB/s | migration | steps |",
    "|---|---:|---:|---|---|",
    ...results.map(
      (r) =>
        `| ${r.path} | ${r.mb} | ${r.dirtyMBps} | ${r.migrationId} | ${Object.entries(r.steps)
          .map(([k, v]) => `${k}=${Math.round(v)}`)
          .join(", ")} |`,
    ),
    "",
  ].join("\n");
}

const list = (v: string | undefined, dflt: string) =>
  (v ?? dflt).split(",").map((x) => {
    const n = Number(x.trim());
    if (!Number.isInteger(n) || n < 0 || n > 4096) throw new Error(`expected comma-separated integers from 0 to 4096, got "${x}"`);
    return n;
  });

async function main(): Promise<void> {
  const sizes = list(process.env.HERD_BENCH_HERD_SIZES, "1,16,128,512");
  const dirtyRates = list(process.env.HERD_BENCH_DIRTY_MBPS, "0,10");
  const postCopyMinMb = list(process.env.HERD_BENCH_POST_COPY_MIN_MB, "128")[0] ?? 128;
  const outDir = process.env.HERD_BENCH_OUT ?? join(repoRoot, "bench/results");
  if (cluster.info()) throw new Error("a local cluster is already up: run `herd down` first");
  const results: Result[] = [];
  const started = Date.now();
  const notes: string[] = [];
  try {
    await cluster.up({ nodes: 2 });
    await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 60_000);
    for (const mb of sizes) {
      for (const dirty of mb <= 1 ? [0] : dirtyRates) {
        const modes: Array<"stop-and-copy" | "post-copy"> = mb >= postCopyMinMb ? ["stop-and-copy", "post-copy"] : ["stop-and-copy"];
        for (const r of [await floor(mb, dirty), ...(await sequential(modes.map((mode) => () => measure(mb, dirty, mode))))]) {
          process.stderr.write(`${r.path} ${mb} MB, dirty ${dirty} MB/s: frozen ${r.frozenMs} ms, verified ${r.verified}\n`);
          results.push(r);
        }
      }
    }
    for (const r of results.filter((x) => x.path !== "floor").slice(-2))
      notes.push(...((await herdJson<MigrationView>("migrations", r.migrationId)).notes ?? []));
  } finally {
    await cluster.down();
  }
  const meta = {
    date: new Date().toISOString(),
    command: "npm run bench:migration (herd migrate case: node dist/bench/migration-herd.js)",
    machine: "2 cores, shared; nodes are network namespaces on one host bridge (herd0), one Docker engine 20.10 each",
    "bench duration": `${((Date.now() - started) / 1000).toFixed(0)} s`,
    "herd migrate's note": notes.join(" ") || "none",
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "migration-herd.json"), JSON.stringify({ meta, results }, null, 2) + "\n");
  await writeFile(join(outDir, "migration-herd.md"), markdown(results, meta));
  process.stdout.write(markdown(results, meta));
  if (results.some((r) => !r.verified)) {
    process.stderr.write("bench:migration herd: some restored containers failed verification\n");
    process.exitCode = 1;
  }
}

async function sequential<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  for (const j of jobs) out.push(await j());
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:migration herd failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
