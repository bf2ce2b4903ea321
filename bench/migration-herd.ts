/**
 * bench:migration, `herd migrate` case — stop-and-copy frozen time through the very path users
 * take: a real two-node local cluster (herd up), the control service's saga over the broker, the
 * agents' handlers (runc dump, rsync, restore through linked images).
 *
 * For each memory size and each dirty rate, a `memhold` container holding that much memory
 * (rewriting MEMHOLD_DIRTY_MBPS MB/s of it) runs on n1 and is moved to n2 with `herd migrate`.
 * Reported: Herd's own frozen time (dump start on the source → running on the destination, agent
 * clocks) and total, the steps, `memhold verify` on the destination (same checksum as before),
 * and both agents' CPU time (theirs and their waited-for children's: runc, CRIU, rsync) and peak
 * RSS during the migration. The 1 MB case runs idle (dirty rate 0) only.
 *
 * Env: HERD_BENCH_HERD_SIZES (MB list, default "1,16,128,512"), HERD_BENCH_DIRTY_MBPS (list,
 * default "0,10"), HERD_BENCH_OUT (default bench/results).
 */
import { readFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

interface Result {
  mb: number;
  dirtyMBps: number;
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

async function measure(mb: number, dirty: number): Promise<Result> {
  const name = `bench-mem-${mb}-${dirty}`;
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
    `MEMHOLD_DIRTY_MBPS=${dirty} exec memhold ${mb} 42`,
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
  const stopSource = await watchAgent("n1");
  const stopDestination = await watchAgent("n2");
  const r = await herd("migrate", name, "--to", "n2");
  const source = await stopSource();
  const destination = await stopDestination();
  if (r.code !== 0) throw new Error(`herd migrate ${name}: ${r.stdout} ${r.stderr}`);
  const m = (await herdJson<MigrationView[]>("migrations")).filter((x) => x.containerName === name && x.state === "committed").at(-1);
  const verify = await dockerExec(engineOf(info(), "n2"), name, ["memhold", "verify"]);
  const verified = verify.code === 0 && verify.output.includes(`ok ${checksum}`);
  const full = m ? await herdJson<MigrationView>("migrations", m.id) : undefined;
  // Memory back for the next case (control notices the container is gone).
  await engineOf(info(), "n2")
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
  return {
    mb,
    dirtyMBps: dirty,
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
  const s = (v: number | null) => (v === null ? "—" : (v / 1000).toFixed(2));
  return [
    "# bench:migration — `herd migrate` (stop-and-copy, memhold, dirty rates)",
    "",
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    "",
    "Frozen is Herd's own record (dump start on the source → the container running on the destination, agent clocks); it includes the broker round trips between freeze, install and restore. Verified = `memhold verify` on the destination printed the checksum memhold printed before the move. Agent CPU = the agent process's own CPU time during the migration + its waited-for children (runc and the dump's CRIU, rsync); the restore's CRIU runs under containerd's shim and is not counted.",
    "",
    "| MB | dirty MB/s | frozen (s) | total (s) | moved (MB) | verified | source agent CPU own + children (s) | source peak RSS (MB) | destination agent CPU own + children (s) | destination peak RSS (MB) |",
    "|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.mb} | ${r.dirtyMBps} | ${s(r.frozenMs)} | ${s(r.totalMs)} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${r.verified ? "yes" : "**NO**"} | ${(r.source.cpuMs / 1000).toFixed(2)} + ${(r.source.childrenCpuMs / 1000).toFixed(2)} | ${r.source.peakRssMB.toFixed(0)} | ${(r.destination.cpuMs / 1000).toFixed(2)} + ${(r.destination.childrenCpuMs / 1000).toFixed(2)} | ${r.destination.peakRssMB.toFixed(0)} |`,
    ),
    "",
    "## Steps (ms)",
    "",
    "| MB | dirty MB/s | migration | steps |",
    "|---:|---:|---|---|",
    ...results.map(
      (r) =>
        `| ${r.mb} | ${r.dirtyMBps} | ${r.migrationId} | ${Object.entries(r.steps)
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
  const outDir = process.env.HERD_BENCH_OUT ?? join(repoRoot, "bench/results");
  if (cluster.info()) throw new Error("a local cluster is already up: run `herd down` first");
  const results: Result[] = [];
  const started = Date.now();
  let notes: string[] = [];
  try {
    await cluster.up({ nodes: 2 });
    await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 60_000);
    for (const mb of sizes) {
      for (const dirty of mb <= 1 ? [0] : dirtyRates) {
        const r = await measure(mb, dirty);
        process.stderr.write(`${mb} MB, dirty ${dirty} MB/s: frozen ${r.frozenMs} ms, verified ${r.verified}\n`);
        results.push(r);
      }
    }
    const last = results.at(-1);
    if (last) notes = (await herdJson<MigrationView>("migrations", last.migrationId)).notes ?? [];
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

main().catch((err: unknown) => {
  process.stderr.write(`bench:migration herd failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
