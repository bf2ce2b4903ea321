/**
 * bench:qos — node QoS on the local cluster (`herd up --nodes 2`), real workloads, real tc and cgroups.
 *
 * (a) PID guard. On n1, inside the node's namespace, a Docker bridge network carries a `netecho`
 *     service (herd.qos.class=network, target 30 ms, base share 10 Mbit/s), closed-loop 64 KB
 *     `netecho client` load, and an independent `netecho client` latency probe (16 KB every
 *     250 ms); next to it `diskwrite` (herd.qos.class=storage, base 10 MB/s of writes, minimum 2)
 *     writing 16 MB/s with an fsync every second. The guard shapes the service's veth (tc HTB) and
 *     throttles the writer (blkio). Two runs, one after the other: `herd.qos.guard=static` (the
 *     base split held, i.e. guard off) and `pid`. Phase 1 (1 load client) can be held; phase 2
 *     (3 clients) cannot — the guard saturates and asks control for a migration.
 * (b) Fair share. Four `cpusteps` containers (on both CPUs) with demands that change every
 *     10 s; the agent divides 1 core (HERD_QOS_CPU_MILLICORES=1000) by credit fair share, by
 *     static equal shares, or not at all. Jain's index of (CPU received ÷ demand) per second, and
 *     the total work (loops) done.
 * Writes bench/results/qos.{md,json} and qos-*.svg. Needs the cluster lock:
 *   npm run bench:qos
 * Env: HERD_BENCH_OUT (default bench/results), HERD_BENCH_QOS_SCALE (durations × this, default 1).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type Dockerode from "dockerode";
import type { QosStatus } from "../shared/src/contracts/qos-events.js";
import { parseProcCgroup } from "../services/compute-agent/src/metrics/cgroup-parsers.js";
import { blockDeviceOf } from "../services/compute-agent/src/qos/block-device.js";
import { jainIndex } from "../services/compute-agent/src/qos/fair-share.js";
import { QOS_MIGRATION_REASON } from "../services/compute-agent/src/qos/pid-guard-controller.js";
import { ApiClient } from "../services/cli/src/api-client.js";
import { barChart, lineChart, type Series } from "../services/control/src/simulator/svg-chart.js";
import type { MigrationRecord } from "../services/control/src/migration/migration-record.js";
import { engineOf, newCluster, waitFor } from "../test/integration/support/cluster-harness.js";

const OUT = resolve(process.env.HERD_BENCH_OUT ?? "bench/results");
const SCALE = Number(process.env.HERD_BENCH_QOS_SCALE ?? "1");
const ROUNDS = Math.max(1, Number(process.env.HERD_BENCH_QOS_ROUNDS ?? "2"));
/** Seconds per demand step in (b). */
const STEP_S = Math.max(4, Math.round(10 * SCALE));
const IMAGE = "herd/workload:latest";
const TARGET_MS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface GuardSample {
  t: number;
  measuredMs?: number;
  output?: number;
  rateKbit?: number;
  writeLimitBps?: number;
  diskWriteBps?: number;
  saturatedRounds?: number;
}
interface GuardRun {
  mode: "static" | "pid";
  phase2At: number;
  samples: GuardSample[];
  /** Per second: median RTT of the independent probe container. */
  probe: Array<{ t: number; ms: number }>;
  settleS?: number;
  phase1InTargetPct: number;
  phase1MedianMs: number;
  phase2MedianMs: number;
  diskMBps: { phase1: number; phase2: number };
  migration?: { id: string; container: string; from: string; to: string; state: string; reason?: string; requestedAfterS: number };
}

function v1Dir(pid: number, controller: string): string {
  const m = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
  return join("/sys/fs/cgroup", controller, m.v1.get(controller) ?? "");
}
function blkioWritten(pid: number, device: string): number {
  try {
    const line = readFileSync(join(v1Dir(pid, "blkio"), "blkio.throttle.io_service_bytes"), "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${device} Write `));
    return line ? Number(line.split(" ")[2]) : 0;
  } catch {
    return Number.NaN;
  }
}
function cpuNs(pid: number): number {
  try {
    return Number(readFileSync(join(v1Dir(pid, "cpuacct"), "cpuacct.usage"), "utf8"));
  } catch {
    return Number.NaN;
  }
}

/** Log lines with Docker's timestamps (ms since epoch), demultiplexed. */
async function timedLogs(docker: Dockerode, id: string): Promise<Array<{ at: number; line: string }>> {
  const buf = await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, timestamps: true });
  const chunks: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    chunks.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(chunks)
    .toString()
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => {
      const sp = l.indexOf(" ");
      return { at: Date.parse(l.slice(0, sp)), line: l.slice(sp + 1) };
    });
}

async function run(
  docker: Dockerode,
  name: string,
  cmd: string[],
  opts: { labels?: Record<string, string>; network?: string; cpuset?: string } = {},
): Promise<{ id: string; pid: number }> {
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch(() => undefined);
  const c = await docker.createContainer({
    name,
    Image: IMAGE,
    Cmd: cmd,
    Labels: opts.labels ?? {},
    HostConfig: { NetworkMode: opts.network ?? "none", ...(opts.cpuset ? { CpusetCpus: opts.cpuset } : {}) },
  });
  await c.start();
  const info = await c.inspect();
  return { id: info.Id, pid: info.State.Pid };
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s[Math.floor(s.length / 2)] ?? NaN) : NaN;
};
const mean = (xs: number[]) => {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};

async function guardRun(docker: Dockerode, api: ApiClient, device: string, mode: "static" | "pid"): Promise<GuardRun> {
  const phase1 = 60 * SCALE;
  const phase2 = 45 * SCALE;
  const svc = await run(docker, "qos-svc", ["netecho", "7000"], {
    network: "qos-net",
    labels: { "herd.qos.class": "network", "herd.qos.target-latency-ms": String(TARGET_MS), "herd.qos.rate-mbit": "10", "herd.qos.guard": mode },
  });
  const ip = Object.values((await docker.getContainer(svc.id).inspect()).NetworkSettings.Networks)[0]?.IPAddress ?? "";
  const disk = await run(docker, "qos-disk", ["diskwrite", "/data", "16384", "64"], {
    labels: { "herd.qos.class": "storage", "herd.qos.write-mbps": "10", "herd.qos.write-min-mbps": "2" },
  });
  await sleep(500);
  const start = Date.now();
  const probe = await run(docker, "qos-probe", ["netecho", "client", ip, "7000", "250", "16384"], { network: "qos-net" });
  await run(docker, "qos-load1", ["netecho", "client", ip, "7000", "0", "65536"], { network: "qos-net" });
  const samples: GuardSample[] = [];
  let lastWritten = blkioWritten(disk.pid, device);
  let lastAt = Date.now();
  let phase2At = Number.POSITIVE_INFINITY;
  while (Date.now() - start < (phase1 + phase2) * 1000) {
    if (phase2At === Number.POSITIVE_INFINITY && Date.now() - start >= phase1 * 1000) {
      phase2At = (Date.now() - start) / 1000;
      await run(docker, "qos-load2", ["netecho", "client", ip, "7000", "0", "65536"], { network: "qos-net" });
      await run(docker, "qos-load3", ["netecho", "client", ip, "7000", "0", "65536"], { network: "qos-net" });
    }
    await sleep(1_000);
    const view = await api.get<{ nodes: QosStatus[] }>("/qos").catch(() => ({ nodes: [] }));
    const rows = view.nodes.find((n) => n.nodeId === "n1")?.containers ?? [];
    const s = rows.find((r) => r.name === "qos-svc");
    const d = rows.find((r) => r.name === "qos-disk");
    const written = blkioWritten(disk.pid, device);
    const now = Date.now();
    samples.push({
      t: (now - start) / 1000,
      measuredMs: s?.measuredMs,
      output: s?.output,
      rateKbit: s?.limits.rateKbit,
      writeLimitBps: d?.limits.writeBps,
      diskWriteBps: ((written - lastWritten) * 1000) / (now - lastAt),
      saturatedRounds: s?.saturatedRounds,
    });
    lastWritten = written;
    lastAt = now;
  }
  const lines = await timedLogs(docker, probe.id);
  const bySecond = new Map<number, number[]>();
  for (const l of lines) {
    const m = /rtt_us=(\d+)/.exec(l.line);
    if (!m) continue;
    const sec = Math.floor((l.at - start) / 1000);
    if (sec < 0) continue;
    bySecond.set(sec, [...(bySecond.get(sec) ?? []), Number(m[1]) / 1000]);
  }
  const probeSeries = [...bySecond].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, ms: median(v) }));
  const p1 = probeSeries.filter((p) => p.t < phase2At);
  const p2 = probeSeries.filter((p) => p.t >= phase2At + 5);
  // Settle time: from the start, the first second after which the probe stays inside the target for the rest of phase 1.
  let settleS: number | undefined;
  for (let k = p1.length - 1; k >= 0; k--) {
    if ((p1[k]?.ms ?? Infinity) > TARGET_MS) {
      settleS = k + 1 < p1.length - 5 ? p1[k + 1]?.t : undefined;
      break;
    }
    if (k === 0) settleS = 0;
  }
  const migrations = (await api.get<{ migrations: MigrationRecord[] }>("/migrations?limit=20")).migrations.filter(
    (m) => m.createdAt >= start && m.reason === QOS_MIGRATION_REASON,
  );
  const mig = migrations.sort((a, b) => a.createdAt - b.createdAt)[0];
  let settled: MigrationRecord | undefined = mig;
  if (mig) {
    settled = await waitFor(
      "the QoS migration to settle",
      async () => {
        const r = await api.get<MigrationRecord>(`/migrations/${mig.id}`);
        return r.state === "running" || r.state === "rolling-back" ? undefined : r;
      },
      120_000,
    ).catch(() => mig);
  }
  for (const name of ["qos-probe", "qos-load1", "qos-load2", "qos-load3", "qos-svc", "qos-disk"]) {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
  const diskP = (from: number, to: number) => mean(samples.filter((s) => s.t >= from && s.t < to).map((s) => s.diskWriteBps ?? NaN)) / 1e6;
  return {
    mode,
    phase2At,
    samples,
    probe: probeSeries,
    ...(settleS !== undefined ? { settleS } : {}),
    phase1InTargetPct: (100 * p1.filter((p) => p.t >= 20 && p.ms <= TARGET_MS).length) / Math.max(1, p1.filter((p) => p.t >= 20).length),
    phase1MedianMs: median(p1.filter((p) => p.t >= 20).map((p) => p.ms)),
    phase2MedianMs: median(p2.map((p) => p.ms)),
    diskMBps: { phase1: diskP(20, phase2At), phase2: diskP(phase2At + 5, Infinity) },
    ...(settled
      ? {
          migration: {
            id: settled.id,
            container: settled.containerName,
            from: settled.source,
            to: settled.destination,
            state: settled.state,
            reason: settled.reason,
            requestedAfterS: (settled.createdAt - start) / 1000 - phase2At,
          },
        }
      : {}),
  };
}

const SCHEDULES: Record<string, number[]> = {
  c1: [0.9, 0.1, 0.9, 0.1, 0.9, 0.1],
  c2: [0.1, 0.9, 0.1, 0.9, 0.1, 0.9],
  c3: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
  c4: [0.2, 0.6, 0.8, 0.1, 0.4, 0.7],
};
interface ShareRun {
  scheme: "none" | "static" | "fair";
  /** Jain of (CPU received ÷ demand) per second, averaged. */
  jainMean: number;
  /** Jain of (CPU granted, at most the demand ÷ demand): the scheme's own decision, free of the machine's other load. */
  grantedJainMean: number;
  jainPerSecond: Array<{ t: number; jain: number }>;
  totalLoops: number;
  cpuSeconds: number;
  perContainer: Record<string, { cpuSeconds: number; loops: number }>;
}

async function shareRun(docker: Dockerode, api: ApiClient, scheme: "none" | "static" | "fair"): Promise<ShareRun> {
  const stepS = STEP_S;
  const seconds = stepS * 6;
  const started: Record<string, { id: string; pid: number }> = {};
  for (const [name, fr] of Object.entries(SCHEDULES)) {
    started[name] = await run(docker, `fair-${name}`, ["cpusteps", String(stepS), ...fr.map(String)], {
      cpuset: "0-1",
      labels: scheme === "none" ? {} : { "herd.share": scheme },
    });
  }
  const t0 = Date.now();
  const last: Record<string, number> = Object.fromEntries(Object.entries(started).map(([n, c]) => [n, cpuNs(c.pid)]));
  let lastAt = t0;
  const received: Array<{ t: number; cores: Record<string, number>; granted: Record<string, number> }> = [];
  const cpuTotal: Record<string, number> = Object.fromEntries(Object.keys(started).map((n) => [n, 0]));
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(1_000);
    const now = Date.now();
    const cores: Record<string, number> = {};
    for (const [n, c] of Object.entries(started)) {
      const v = cpuNs(c.pid);
      cores[n] = (v - (last[n] ?? v)) / 1e6 / (now - lastAt);
      cpuTotal[n] = (cpuTotal[n] ?? 0) + (v - (last[n] ?? v)) / 1e9;
      last[n] = v;
    }
    lastAt = now;
    // What the scheme granted this second (the CPU quota in force); with no limits, CFS's answer is what was received.
    const granted: Record<string, number> = {};
    if (scheme !== "none") {
      const view = await api.get<{ nodes: QosStatus[] }>("/qos").catch(() => ({ nodes: [] }));
      for (const row of view.nodes.find((x) => x.nodeId === "n1")?.containers ?? []) {
        const n = row.name.replace(/^fair-/, "");
        if (row.limits.cpuMillicores !== undefined) granted[n] = row.limits.cpuMillicores / 1000;
      }
    }
    received.push({ t: (now - t0) / 1000, cores, granted });
  }
  const perContainer: ShareRun["perContainer"] = {};
  const demandAt: Record<string, Array<{ at: number; fraction: number }>> = {};
  for (const [n, c] of Object.entries(started)) {
    const lines = await timedLogs(docker, c.id);
    let loops = 0;
    demandAt[n] = [];
    for (const l of lines) {
      const m = /fraction=([\d.]+) loops_per_s=(\d+)/.exec(l.line);
      if (!m || l.at < t0 || l.at > t0 + seconds * 1000) continue;
      loops += Number(m[2]);
      demandAt[n]?.push({ at: l.at, fraction: Number(m[1]) });
    }
    perContainer[n] = { cpuSeconds: cpuTotal[n] ?? 0, loops };
  }
  for (const n of Object.keys(started)) {
    await docker
      .getContainer(`fair-${n}`)
      .remove({ force: true })
      .catch(() => undefined);
  }
  // Demand in force at a time: the fraction the program printed closest to it.
  const demand = (n: string, t: number) => {
    const at = t0 + t * 1000;
    let best: { at: number; fraction: number } | undefined;
    for (const d of demandAt[n] ?? []) if (!best || Math.abs(d.at - at) < Math.abs(best.at - at)) best = d;
    return best?.fraction ?? NaN;
  };
  const grantedJain = received
    .filter((r) => r.t > 2)
    .map((r) =>
      jainIndex(Object.keys(r.cores).map((n) => Math.min(1, (scheme === "none" ? (r.cores[n] ?? 0) : (r.granted[n] ?? 0)) / Math.max(0.01, demand(n, r.t))))),
    );
  const jainPerSecond = received
    .filter((r) => r.t > 2)
    .map((r) => ({ t: r.t, jain: jainIndex(Object.keys(r.cores).map((n) => Math.min(1.5, (r.cores[n] ?? 0) / Math.max(0.01, demand(n, r.t))))) }));
  return {
    scheme,
    jainMean: mean(jainPerSecond.map((j) => j.jain)),
    grantedJainMean: mean(grantedJain),
    jainPerSecond,
    totalLoops: Object.values(perContainer).reduce((s, c) => s + c.loops, 0),
    cpuSeconds: Object.values(perContainer).reduce((s, c) => s + c.cpuSeconds, 0),
    perContainer,
  };
}

/** One row per scheme over all rounds: Jain averaged over every second, work summed. */
function mergeRounds(rounds: ShareRun[]): ShareRun[] {
  return (["none", "static", "fair"] as const).map((scheme) => {
    const rs = rounds.filter((r) => r.scheme === scheme);
    const perContainer: ShareRun["perContainer"] = {};
    for (const r of rs)
      for (const [n, c] of Object.entries(r.perContainer))
        perContainer[n] = { cpuSeconds: (perContainer[n]?.cpuSeconds ?? 0) + c.cpuSeconds, loops: (perContainer[n]?.loops ?? 0) + c.loops };
    const jainPerSecond = rs[0]?.jainPerSecond ?? [];
    return {
      scheme,
      jainMean: mean(rs.flatMap((r) => r.jainPerSecond.map((j) => j.jain))),
      grantedJainMean: mean(rs.map((r) => r.grantedJainMean)),
      jainPerSecond,
      totalLoops: rs.reduce((a, r) => a + r.totalLoops, 0),
      cpuSeconds: rs.reduce((a, r) => a + r.cpuSeconds, 0),
      perContainer,
    };
  });
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const cluster = newCluster();
  await cluster.down().catch(() => undefined);
  process.env.HERD_QOS_CPU_MILLICORES = "1000"; // the agents inherit it: the four fair-share containers share one core
  const info = await cluster.up({ nodes: 2 });
  const api = new ApiClient({ url: info.apiUrl, token: info.apiToken });
  const docker = engineOf(info, "n1");
  const node = info.nodes.find((n) => n.id === "n1");
  const device = blockDeviceOf(node?.dataRoot ?? "/var/lib/herd");
  try {
    await docker
      .createNetwork({
        Name: "qos-net",
        Driver: "bridge",
        IPAM: { Config: [{ Subnet: "10.78.1.0/24" }] },
        Options: { "com.docker.network.bridge.name": "hq0" },
      })
      .catch(() => undefined);
    const guard: GuardRun[] = [];
    for (const mode of ["static", "pid"] as const) {
      console.error(`(a) guard ${mode}…`);
      guard.push(await guardRun(docker, api, device, mode));
      // The QoS migration may have moved the writer to n2: leave n2 clean for the next run.
      await engineOf(info, "n2")
        .getContainer("qos-disk")
        .remove({ force: true })
        .catch(() => undefined);
    }
    // Rounds alternate the schemes so the machine's other load falls on all of them alike.
    const rounds: ShareRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const scheme of ["none", "static", "fair"] as const) {
        console.error(`(b) round ${round + 1}/${ROUNDS}: ${scheme}…`);
        rounds.push(await shareRun(docker, api, scheme));
      }
    }
    await report(guard, mergeRounds(rounds), rounds);
  } finally {
    await cluster.down().catch((err: unknown) => console.error("down failed", err));
  }
}

/** A series with only its finite points (a missing status row must not break the chart's range). */
function finite(name: string, xs: number[], ys: number[]): Series {
  const keep = xs.map((_, i) => i).filter((i) => Number.isFinite(xs[i]) && Number.isFinite(ys[i]));
  return { name, x: keep.map((i) => xs[i] ?? 0), y: keep.map((i) => ys[i] ?? 0) };
}
/** Trailing moving average over `n` points (fsync makes the writer's disk writes arrive in bursts). */
function smooth(ys: number[], n: number): number[] {
  return ys.map((_, i) => mean(ys.slice(Math.max(0, i - n + 1), i + 1)));
}

async function report(guard: GuardRun[], share: ShareRun[], rounds: ShareRun[]): Promise<void> {
  const f = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(d));
  const latency: Series[] = guard.map((g) => ({
    name: g.mode === "pid" ? "guard on (PID)" : "guard off (static)",
    x: g.probe.map((p) => p.t),
    y: g.probe.map((p) => p.ms),
  }));
  latency.push({ name: `target ${TARGET_MS} ms`, x: [0, Math.max(...guard.flatMap((g) => g.probe.map((p) => p.t)))], y: [TARGET_MS, TARGET_MS] });
  const pid = guard.find((g) => g.mode === "pid");
  const stat = guard.find((g) => g.mode === "static");
  await writeFile(
    join(OUT, "qos-latency.svg"),
    lineChart(
      `(a) latency of the network service next to diskwrite (phase 2 from ${f(pid?.phase2At, 0)} s: 3× load)`,
      "time (s)",
      "round trip, 16 KB (ms)",
      latency,
    ),
  );
  if (pid) {
    await writeFile(
      join(OUT, "qos-guard.svg"),
      lineChart("(a) PID guard: output and the capacity it moves", "time (s)", "output (%) / Mbit/s / MB/s", [
        finite(
          "PID output u (%)",
          pid.samples.map((s) => s.t),
          pid.samples.map((s) => s.output ?? NaN),
        ),
        finite(
          "service rate Mbit/s",
          pid.samples.map((s) => s.t),
          pid.samples.map((s) => (s.rateKbit ?? NaN) / 1000),
        ),
        finite(
          "writer limit MB/s",
          pid.samples.map((s) => s.t),
          pid.samples.map((s) => (s.writeLimitBps ?? NaN) / 1e6),
        ),
        finite(
          "writer disk MB/s (3 s avg)",
          pid.samples.map((s) => s.t),
          smooth(
            pid.samples.map((s) => (s.diskWriteBps ?? NaN) / 1e6),
            3,
          ),
        ),
      ]),
    );
  }
  await writeFile(
    join(OUT, "qos-fairness.svg"),
    lineChart(
      "(b) Jain's index of CPU received ÷ demand, per second",
      "time (s)",
      "Jain index",
      share.map((s) => ({
        name: s.scheme === "none" ? "no limits" : s.scheme === "static" ? "static equal shares" : "credit fair share",
        x: s.jainPerSecond.map((j) => j.t),
        y: s.jainPerSecond.map((j) => j.jain),
      })),
    ),
  );
  await writeFile(
    join(OUT, "qos-work.svg"),
    barChart(
      "(b) total work done (million loops)",
      "million loops",
      share.map((s) => ({
        label: s.scheme === "none" ? "no limits" : s.scheme === "static" ? "static equal shares" : "credit fair share",
        value: s.totalLoops / 1e6,
      })),
    ),
  );
  const fair = share.find((s) => s.scheme === "fair");
  const stat2 = share.find((s) => s.scheme === "static");
  const none = share.find((s) => s.scheme === "none");
  const md = `# bench:qos — node QoS on the local cluster

Command: \`npm run bench:qos\` (${new Date().toISOString()}; 2-core VM shared with other work; one run each, one after the other).

## (a) PID guard: \`netecho\` service (target ${TARGET_MS} ms) next to \`diskwrite\`

The service's veth in n1's namespace is shaped with tc HTB (base 10 Mbit/s); the writer (16 MB/s
asked, fsync every second) is throttled with blkio (base 10 MB/s, minimum 2 MB/s). The PID output u
moves u % of the service's base rate from the writer's limit to the service. Latency is the
median per second of an independent \`netecho client\` probe (16 KB every 250 ms) on the same bridge.
Phase 1: one closed-loop 64 KB load client (holdable). Phase 2 (from ${f(pid?.phase2At, 0)} s): three clients (not holdable within the writer's minimum).

| guard | phase 1 median RTT (after 20 s) | phase 1 seconds inside target | settle time | phase 2 median RTT | writer disk MB/s phase 1 / 2 | migration asked |
|---|---|---|---|---|---|---|
${guard
  .map(
    (g) =>
      `| ${g.mode === "pid" ? "on (PID)" : "off (static split)"} | ${f(g.phase1MedianMs)} ms | ${f(g.phase1InTargetPct, 0)} % | ${g.settleS !== undefined ? `${f(g.settleS, 0)} s` : "never"} | ${f(g.phase2MedianMs)} ms | ${f(g.diskMBps.phase1)} / ${f(g.diskMBps.phase2)} | ${g.migration ? `${g.migration.container} ${g.migration.from}→${g.migration.to}, ${f(g.migration.requestedAfterS, 0)} s into phase 2, ${g.migration.state}: "${g.migration.reason}"` : "none"} |`,
  )
  .join("\n")}

Ratio phase-1 median latency off/on: ${f((stat?.phase1MedianMs ?? NaN) / (pid?.phase1MedianMs ?? NaN), 2)}×.

![latency](qos-latency.svg)
![guard](qos-guard.svg)

## (b) Fair share: four \`cpusteps\` containers sharing a 1-core budget, demands changing every ${Math.max(4, Math.round(10 * SCALE))} s

Capacity handed out: 1 core (HERD_QOS_CPU_MILLICORES=1000) to four containers on both CPUs; "granted" is the CPU quota in force each
second (no limits: what CFS gave), capped at the demand; "received" is what each container's cgroup actually used.

| scheme | Jain of (granted ÷ demand) | Jain of (received ÷ demand) | total work (M loops) | CPU seconds | work vs no limits |
|---|---|---|---|---|---|
${share.map((s) => `| ${s.scheme === "none" ? "no limits" : s.scheme === "static" ? "static equal shares" : "credit fair share"} | ${f(s.grantedJainMean, 3)} | ${f(s.jainMean, 3)} | ${f(s.totalLoops / 1e6, 1)} | ${f(s.cpuSeconds, 1)} | ${f((100 * s.totalLoops) / (none?.totalLoops ?? NaN), 1)} % |`).join("\n")}

Per round (${ROUNDS} rounds, schemes alternating; the plot shows round 1):

| round | scheme | Jain granted | Jain received | work (M loops) | CPU s |
|---|---|---|---|---|---|
${rounds.map((r, i) => `| ${Math.floor(i / 3) + 1} | ${r.scheme} | ${f(r.grantedJainMean, 3)} | ${f(r.jainMean, 3)} | ${f(r.totalLoops / 1e6, 2)} | ${f(r.cpuSeconds, 1)} |`).join("\n")}

The four containers received ${f((stat2?.cpuSeconds ?? NaN) / (ROUNDS * 6 * STEP_S), 2)} cores on average under static shares and ${f((fair?.cpuSeconds ?? NaN) / (ROUNDS * 6 * STEP_S), 2)} under fair share, of the 1-core budget: when the machine's other load leaves less than the budget, the quotas do not bind and what each container receives is CFS's answer under every scheme — "received" then measures the machine, "granted" the scheme.

Fair share vs static shares: Jain granted ${f(fair?.grantedJainMean, 3)} vs ${f(stat2?.grantedJainMean, 3)}, received ${f(fair?.jainMean, 3)} vs ${f(stat2?.jainMean, 3)}; work ${f((100 * (fair?.totalLoops ?? NaN)) / (stat2?.totalLoops ?? NaN), 1)} % of static's, ${f((100 * (fair?.totalLoops ?? NaN)) / (none?.totalLoops ?? NaN), 1)} % of no limits'.

![fairness](qos-fairness.svg)
![work](qos-work.svg)
`;
  await writeFile(join(OUT, "qos.md"), md);
  await writeFile(join(OUT, "qos.json"), JSON.stringify({ guard, share, rounds }, null, 1));
  console.log(md);
}

/** `--report <qos.json>`: writes the markdown and plots again from a run's saved figures (no cluster). */
async function reportOnly(file: string): Promise<void> {
  const saved = JSON.parse(readFileSync(file, "utf8")) as { guard: GuardRun[]; rounds: ShareRun[] };
  await mkdir(OUT, { recursive: true });
  await report(saved.guard, mergeRounds(saved.rounds), saved.rounds);
}

const reportArg = process.argv.indexOf("--report");
(reportArg > 0 ? reportOnly(process.argv[reportArg + 1] ?? "") : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
