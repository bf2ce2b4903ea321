/**
 * bench:migration, networked case — what a client on another node sees while Herd moves the
 * service it talks to.
 *
 * On a real two-node local cluster (herd up; nodes in their own namespaces on herd0, containers on
 * the cluster network): for each memory size, a `netecho` server holding that much memory runs on
 * n1; a `netecho probe` client container on n2 sends a 64-byte request every 10 ms on one kept
 * connection (a request not echoed within 5 s counts as failed and the client reconnects). The
 * server is moved to n2 with `herd migrate`. Reported per size, side by side in one run:
 *   - frozen: Herd's own frozen time for that migration (dump start → running on the destination)
 *   - client longest gap: the longest time between two successful echoes the client saw
 *   - steady gap: the longest gap in the 2 s before the move (the baseline at 10 ms requests)
 *   - failed requests, reconnects, byte mismatches (all should be 0)
 *   - migration total (herd migrate, start to commit)
 * Traffic stays on the cluster's own addresses (10.77.0.0/24 on herd0).
 *
 * Env: HERD_BENCH_NET_SIZES (MB list, default "16,128,512"), HERD_BENCH_OUT (default bench/results).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { answers } from "../services/cli/src/networked-demo.js";
import { lineChart } from "../services/control/src/simulator/svg-chart.js";
import { engineOf, herd, herdJson, logsOf, newCluster, repoRoot, waitFor } from "../test/integration/support/cluster-harness.js";

interface NetResult {
  mb: number;
  frozenMs: number | null;
  totalMs: number | null;
  clientMaxGapMs: number;
  steadyMaxGapMs: number;
  ok: number;
  failed: number;
  reconnects: number;
  mismatches: number;
  migrationId: string;
}

interface ProbeLine {
  t: number;
  ok: number;
  failed: number;
  reconnects: number;
  mismatches: number;
  maxGapMs: number;
  done: boolean;
}

function probeLines(logs: string): ProbeLine[] {
  const re = /^probe (done )?t_s=([\d.]+) ok=(\d+) failed=(\d+) reconnects=(\d+) mismatches=(\d+) max_gap_ms=(\d+)/gm;
  return [...logs.matchAll(re)].map((m) => ({
    done: m[1] !== undefined,
    t: Number(m[2]),
    ok: Number(m[3]),
    failed: Number(m[4]),
    reconnects: Number(m[5]),
    mismatches: Number(m[6]),
    maxGapMs: Number(m[7]),
  }));
}

interface MigrationView {
  id: string;
  containerName: string;
  state: string;
  frozenMs?: number;
  totalMs?: number;
}

async function measure(mb: number): Promise<NetResult> {
  const name = `bench-echo-${mb}`;
  const server = await herdJson<{ address?: string }>("run", "--node", "n1", "--name", name, "herd/workload:latest", "netecho", "7000", String(mb));
  const address = server.address;
  if (!address) throw new Error(`${name} got no cluster address`);
  await waitFor(`${name} answering`, () => answers(address, 7000), 60_000);
  // Long enough for the move of the largest size plus a tail after it.
  const durationS = 20 + Math.ceil(mb / 25);
  const client = `bench-probe-${mb}`;
  await herdJson("run", "--node", "n2", "--name", client, "herd/workload:latest", "netecho", "probe", address, "7000", "10", String(durationS), "5000");
  const n2 = engineOf(info(), "n2");
  await waitFor(`${client} steady`, async () => (probeLines(await logsOf(n2, client)).at(-1)?.t ?? 0) >= 2, 30_000);
  const steady = probeLines(await logsOf(n2, client)).at(-1);
  const r = await herd("migrate", name, "--to", "n2");
  if (r.code !== 0) throw new Error(`herd migrate ${name}: ${r.stdout} ${r.stderr}`);
  const done = await waitFor(`${client} done`, async () => probeLines(await logsOf(n2, client)).find((l) => l.done), (durationS + 30) * 1000, 500);
  const migrations = await herdJson<MigrationView[]>("migrations");
  const m = migrations.filter((x) => x.containerName === name && x.state === "committed").at(-1);
  return {
    mb,
    frozenMs: m?.frozenMs ?? null,
    totalMs: m?.totalMs ?? null,
    clientMaxGapMs: done.maxGapMs,
    steadyMaxGapMs: steady?.maxGapMs ?? 0,
    ok: done.ok,
    failed: done.failed,
    reconnects: done.reconnects,
    mismatches: done.mismatches,
    migrationId: m?.id ?? "?",
  };
}

const cluster = newCluster();
function info() {
  const i = cluster.info();
  if (!i) throw new Error("cluster is not up");
  return i;
}

function markdown(results: NetResult[], meta: Record<string, string>): string {
  const f = (v: number | null) => (v === null ? "—" : `${(v / 1000).toFixed(2)} s`);
  const lines = [
    "# bench:migration — networked case (client on another node)",
    "",
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    "",
    "A `netecho` server holding N MB moves n1 → n2 with `herd migrate` while a client container on n2 sends a 64-byte request every 10 ms on one kept TCP connection (5 s timeout per request, then a reconnect).",
    "",
    "| MB | frozen (Herd) | client longest gap | gap / frozen | steady gap (before) | failed requests | reconnects | mismatches | echoes | migration total |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...results.map(
      (r) =>
        `| ${r.mb} | ${f(r.frozenMs)} | ${f(r.clientMaxGapMs)} | ${r.frozenMs ? (r.clientMaxGapMs / r.frozenMs).toFixed(2) : "—"} | ${r.steadyMaxGapMs} ms | ${r.failed} | ${r.reconnects} | ${r.mismatches} | ${r.ok} | ${f(r.totalMs)} |`,
    ),
    "",
    "Frozen is Herd's own record for that migration (from the dump's start to the container running on the destination, agent clocks). The client's longest gap is measured by the client itself, between two successful echoes; it includes the TCP retransmission backoff after the restore (the client's unanswered request is resent on the kernel's RTO schedule), which is why it can exceed the frozen time.",
    "",
    "![frozen vs client gap](migration-networked.svg)",
    "",
  ];
  return lines.join("\n");
}

async function main(): Promise<void> {
  const sizes = (process.env.HERD_BENCH_NET_SIZES ?? "16,128,512").split(",").map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 0 || s > 4096)) throw new Error("HERD_BENCH_NET_SIZES: comma-separated MB values from 0 to 4096");
  const outDir = process.env.HERD_BENCH_OUT ?? join(repoRoot, "bench/results");
  if (cluster.info()) throw new Error("a local cluster is already up: run `herd down` first");
  const results: NetResult[] = [];
  try {
    await cluster.up({ nodes: 2 });
    await waitFor("both nodes up", async () => (await herdJson<Array<{ status: string }>>("nodes")).filter((n) => n.status === "up").length === 2, 60_000);
    for (const mb of sizes) {
      const r = await measure(mb);
      process.stderr.write(`${mb} MB: frozen ${r.frozenMs} ms, client gap ${r.clientMaxGapMs} ms, failed ${r.failed}, reconnects ${r.reconnects}\n`);
      results.push(r);
      await sleep(500);
    }
  } finally {
    await cluster.down();
  }
  const meta = {
    date: new Date().toISOString(),
    command: "npm run bench:migration (networked case: node dist/bench/migration-networked.js)",
    machine: "2 cores, shared; nodes are network namespaces on one host bridge (herd0), one Docker engine each",
    network: "cluster network: Docker macvlan over each node's eth0, one subnet 10.77.0.0/24, addresses owned by control",
    checkpoint: "runc checkpoint --tcp-established; restore with tcp-established in /etc/criu/runc.conf",
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "migration-networked.json"), JSON.stringify({ meta, results }, null, 2) + "\n");
  await writeFile(join(outDir, "migration-networked.md"), markdown(results, meta));
  const x = results.map((r) => r.mb);
  await writeFile(
    join(outDir, "migration-networked.svg"),
    lineChart("Networked move: frozen time vs the client's longest gap", "server memory (MB)", "seconds", [
      { name: "frozen (Herd)", x, y: results.map((r) => (r.frozenMs ?? 0) / 1000) },
      { name: "client longest gap", x, y: results.map((r) => r.clientMaxGapMs / 1000) },
      { name: "migration total", x, y: results.map((r) => (r.totalMs ?? 0) / 1000) },
    ]),
  );
  process.stdout.write(markdown(results, meta));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:migration networked failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
