// npm run bench:scale — the control plane under N simulated nodes. A load generator plays N agents
// over the real broker with the real wire protocol (each its own AMQP connection and its own
// least-privilege broker user, provisioned exactly as `herd up` provisions a node), 20 containers
// each, one telemetry batch per second, heartbeats by the real agent's rule (every 2 s while telemetry is not confirmed, else on a fact change or every 30 s) and an occasional command result,
// against the real control service (a child process: dist/services/control/src/main.js) and Redis.
// It uses its own broker vhost (herd-scale) and Redis database (13), so it never touches the
// cluster of `herd up`. Writes bench/results/scale.{md,json} and SVG plots.
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, setPriority, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";
import { Command } from "commander";
import { Redis } from "ioredis";
import { brokerSpec } from "../services/cli/src/local-cluster/broker-permissions.js";
import { RabbitmqBrokerAdmin } from "../services/cli/src/local-cluster/rabbitmq-broker-admin.js";
import { lineChart, scatterChart } from "../services/control/src/simulator/svg-chart.js";
import { HEARTBEAT_REFRESH_MS } from "../services/compute-agent/src/agent.js";
import { HeartbeatSchedule } from "../services/compute-agent/src/heartbeat-schedule.js";
import { EVENT_VERSION, TELEMETRY_VERSION, ZERO_CONTAINER_USAGE, type ContainerSample, type TelemetryBatch } from "../shared/src/contracts/index.js";
import { createLogger } from "../shared/src/logger.js";
import { hostRedisUrl } from "../shared/src/redis-credentials.js";
import { AmqpMessageBus } from "../shared/src/messaging/amqp-message-bus.js";
import { EXCHANGES, QUEUES, ROUTING, declareControlTopology, declareNodeTopology } from "../shared/src/topology.js";

const log = createLogger({ level: "warn" }).child({ component: "bench-scale" });
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const outDir = join(root, "bench/results");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VHOST = "herd-scale";
// Not "herd-…": `herd down` removes every broker user whose name starts with that.
const USERS = { admin: "scale-bench-admin", control: "scale-bench-control", nodePrefix: "scale-bench-node-" };
const API_PORT = 7095;
const CONTAINERS_PER_NODE = 20;
const MGMT = "http://127.0.0.1:15672";
const PROBES = 20;

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r1 = (v: number) => Math.round(v * 10) / 10;
const nodeIdOf = (i: number) => `s${String(i).padStart(4, "0")}`;

/** The host Redis (HERD_REDIS_URL, as bootstrap's ACL user), database 13. */
function redisUrl(): string {
  const u = new URL(hostRedisUrl());
  u.pathname = "/13";
  return u.toString();
}

interface Second {
  t: number;
  controlCpuPct: number;
  controlRssMiB: number;
  redisUsedMiB: number;
  redisOpsPerSec: number;
  ingestDepth: number;
  eventsDepth: number;
  batchesPublished: number;
  latencyP99Ms: number;
  redisCpuPct: number;
  brokerCpuPct: number;
  loadAvg1: number;
}

interface Row {
  /** Which control build: "ours" or "baseline". */
  build: string;
  /** Control replicas (all ingest; CPU and RSS are their sums). */
  controls: number;
  nodes: number;
  containers: number;
  seconds: number;
  batchesPublishedPerSec: number;
  batchesStoredPerSec: number;
  samplesStoredPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Of the window alone, before the API and plan calls (absent in older results). */
  latencyP99InWindowMs?: number;
  latencySamples: number;
  batchesPublished: number;
  batchesStored: number;
  batchesLost: number;
  /** Of those, lost by the end of the measured window (before the API and plan calls), at most (see runOne). Absent in older results. */
  batchesLostInWindowAtMost?: number;
  deadLettered: number;
  controlCpuPctOfCore: number;
  controlCpuPctOfCoreP95: number;
  controlRssMiB: number;
  redisUsedMiB: number;
  redisOpsPerSec: number;
  ingestDepthMax: number;
  eventsDepthMax: number;
  containersP50Ms: number;
  containersP99Ms: number;
  /** GET /containers?limit=500 (one page, following nextCursor). */
  containersPageP50Ms: number;
  containersPageP99Ms: number;
  nodesP50Ms: number;
  nodesP99Ms: number;
  /**
   * A rebalance round as the automatic loop meets it: the median of the GET /plan calls after the first. The first call on a
   * replica is apart (`planFirstMs`): it looks for a saved forecasting model for each of the 20,000 series in Redis and starts
   * the pooled model's fit (on a worker thread since the seventh pass; in the call before), once per replica; the leader's
   * loop runs every interval and finds them in memory.
   */
  planMs: number;
  planFirstMs?: number;
  /** The round as the control timed it (ms): reading nodes and containers, CPU series, forecasting, the policy; the last GET /plan of the run. */
  planTookMs?: { listing: number; series: number; forecast: number; decide: number };
  /** Each GET /plan of the run: the client's time, the response's size, and the control's phases (sum) for that call. */
  planCalls?: Array<{ ms: number; bytes: number; phasesMs?: number }>;
  planNote: string;
  metricsBytes: number;
  metricsMs: number;
  generatorCpuPctOfCore: number;
  /** Redis server and RabbitMQ broker CPU (% of a core, mean over the window): the rest of the ingest path's cost. */
  redisCpuPctOfCore: number;
  brokerCpuPctOfCore: number;
  /** The machine's 1-minute load average (mean over the window): how contended the 2 cores were. */
  loadAvg1: number;
  timeline: Second[];
}

class Agent {
  bus: AmqpMessageBus;
  seq = 0;
  published = 0;
  readonly startedAt = Date.now();
  private readonly containers: ContainerSample[];
  private timers: NodeJS.Timeout[] = [];
  private readonly heartbeats = new HeartbeatSchedule(2000, HEARTBEAT_REFRESH_MS);

  constructor(
    readonly id: string,
    password: string,
  ) {
    this.bus = new AmqpMessageBus({
      url: `amqp://${USERS.nodePrefix}${id}:${encodeURIComponent(password)}@127.0.0.1:5672/${VHOST}`,
      logger: log,
      connectionName: `herd-scale-agent-${id}`,
      heartbeatSeconds: 30,
    });
    this.containers = Array.from({ length: CONTAINERS_PER_NODE }, (_, k) => ({
      ...ZERO_CONTAINER_USAGE,
      id: randomBytes(32).toString("hex"),
      name: `${id}-c${String(k).padStart(2, "0")}`,
      image: "herd/workload:latest",
      state: "running" as const,
      labels: {},
      memLimitBytes: null,
      memBytes: 64 * 1024 * 1024,
      pids: 3,
    }));
  }

  async start(): Promise<void> {
    await this.bus.start();
    const offset = Math.random() * 1000;
    setTimeout(() => {
      this.timers.push(setInterval(() => void this.telemetry(), 1000));
      this.timers.push(setInterval(() => void this.heartbeat(), 2000));
      // An occasional command result (~1 per node per minute), on the same events path real results take.
      this.timers.push(setInterval(() => void this.result(), 45_000 + Math.random() * 30_000));
      void this.heartbeat();
    }, offset);
  }

  private async telemetry(): Promise<void> {
    const now = Date.now();
    for (const c of this.containers) {
      c.cpuPct = Math.round(Math.random() * 50 * 10) / 10;
      c.cpuUsageNs += c.cpuPct * 1e7;
      c.memBytes = 64 * 1024 * 1024 + Math.floor(Math.random() * 1024 * 1024);
    }
    const batch: TelemetryBatch = {
      v: TELEMETRY_VERSION,
      kind: "telemetry",
      nodeId: this.id,
      seq: this.seq++,
      sentAt: now,
      intervalMs: 1000,
      node: { cpuCores: 8, cpuPct: Math.random() * 80, memTotalBytes: 32 * 1024 ** 3, memUsedBytes: 8 * 1024 ** 3, address: "10.77.0.2" },
      containers: this.containers,
    };
    try {
      await this.bus.publish(EXCHANGES.telemetry, ROUTING.telemetry(this.id), batch, { timeoutMs: 0 });
      this.heartbeats.telemetryConfirmed(now);
      this.published++;
    } catch {
      /* not connected: a real agent skips the round too */
    }
  }

  /** The real agent's rule (HeartbeatSchedule): skipped while telemetry is confirmed, unless the facts are due a refresh. */
  private async heartbeat(): Promise<void> {
    const sentAt = Date.now();
    const facts = { startedAt: this.startedAt, agentVersion: "bench" };
    const factsText = JSON.stringify(facts);
    if (!this.heartbeats.due(sentAt, factsText)) return;
    const hb = { v: EVENT_VERSION, kind: "heartbeat", nodeId: this.id, sentAt, containers: 20, ...facts };
    await this.bus
      .publish(EXCHANGES.events, ROUTING.heartbeat(this.id), hb, { timeoutMs: 0, expirationMs: 6_000 })
      .then(() => this.heartbeats.sent(sentAt, factsText))
      .catch(() => undefined);
  }

  private async result(): Promise<void> {
    const commandId = `bench-${randomBytes(6).toString("hex")}`;
    const res = {
      v: EVENT_VERSION,
      kind: "command.result",
      nodeId: this.id,
      commandId,
      commandType: "container.run",
      ok: true,
      result: {},
      finishedAt: Date.now(),
    };
    await this.bus
      .publish(EXCHANGES.events, ROUTING.result(this.id), res, { persistent: true, messageId: `result-${commandId}`, timeoutMs: 5_000 })
      .catch(() => undefined);
  }

  /** Stops publishing; `close` after in-flight confirms have come back. */
  quiet(): void {
    for (const t of this.timers) clearInterval(t);
  }

  async close(): Promise<void> {
    await this.bus.close();
  }
}

/** Parent ↔ generator worker messages (IPC). */
type ToWorker = { type: "start"; agents: Array<{ id: string; password: string }> } | { type: "quiet" } | { type: "close" };
type FromWorker = { type: "started" } | { type: "count"; published: number; cpuMs: number } | { type: "closed"; published: number; cpuMs: number };

/**
 * The load generator, split over child processes (each plays a share of the agents): one Node
 * process could not offer 1,000 batches/s here (489–896/s in the previous session), and real
 * agents are separate processes on separate hosts anyway.
 */
class Generator {
  private readonly workers: Array<{ child: ChildProcess; published: number; cpuMs: number }> = [];

  static async start(ids: string[], passwords: Record<string, string>, processes: number): Promise<Generator> {
    const g = new Generator();
    const per = Math.ceil(ids.length / processes);
    const started: Array<Promise<void>> = [];
    for (let w = 0; w * per < ids.length; w++) {
      const child = fork(fileURLToPath(import.meta.url), ["--worker"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const slot = { child, published: 0, cpuMs: 0 };
      g.workers.push(slot);
      child.on("message", (m: FromWorker) => {
        if (m.type === "count" || m.type === "closed") {
          slot.published = m.published;
          slot.cpuMs = m.cpuMs;
        }
      });
      started.push(g.await(child, "started", 300_000));
      const agents = ids.slice(w * per, (w + 1) * per).map((id) => ({ id, password: passwords[id]! }));
      child.send({ type: "start", agents } satisfies ToWorker);
    }
    await Promise.all(started);
    return g;
  }

  private await(child: ChildProcess, type: FromWorker["type"], timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`generator worker: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`generator worker exited (${code}) before "${type}"`));
      };
      child.once("exit", onExit);
      const onMessage = (m: FromWorker) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve();
      };
      child.on("message", onMessage);
    });
  }

  published(): number {
    return this.workers.reduce((s, w) => s + w.published, 0);
  }

  /** CPU time of all generator processes so far (ms, as last reported). */
  cpuMs(): number {
    return this.workers.reduce((s, w) => s + w.cpuMs, 0);
  }

  quiet(): void {
    for (const w of this.workers) w.child.send({ type: "quiet" } satisfies ToWorker);
  }

  /** Closes every agent's connection (after in-flight confirms) and ends the workers; final counts. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const done = this.await(w.child, "closed", 120_000);
        w.child.send({ type: "close" } satisfies ToWorker);
        await done.catch(() => undefined);
        w.child.kill("SIGKILL");
      }),
    );
  }

  kill(): void {
    for (const w of this.workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
  }
}

/** A generator worker: plays the agents the parent gives it, reports its published count every 250 ms. */
async function worker(): Promise<void> {
  let agents: Agent[] = [];
  let reporter: NodeJS.Timeout | undefined;
  const count = () => agents.reduce((s, a) => s + a.published, 0);
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const send = (m: FromWorker) => process.send?.(m);
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToWorker) => {
    void (async () => {
      if (m.type === "start") {
        agents = m.agents.map((a) => new Agent(a.id, a.password));
        for (let i = 0; i < agents.length; i += 25) await Promise.all(agents.slice(i, i + 25).map((a) => a.start()));
        reporter = setInterval(() => send({ type: "count", published: count(), cpuMs: cpuMs() }), 250);
        send({ type: "started" });
      } else if (m.type === "quiet") {
        for (const a of agents) a.quiet();
      } else {
        clearInterval(reporter);
        for (const a of agents) a.quiet();
        await sleep(3_000);
        for (let i = 0; i < agents.length; i += 50) await Promise.all(agents.slice(i, i + 50).map((a) => a.close()));
        send({ type: "closed", published: count(), cpuMs: cpuMs() });
      }
    })();
  });
}

/** The RabbitMQ node's pid (its Erlang VM), if it can be found. */
function brokerProcess(): number | undefined {
  const r = spawnSync("pgrep", ["-u", "rabbitmq", "-f", "beam.*-s rabbit"], { encoding: "utf8", timeout: 5_000 });
  const pid = Number((r.stdout ?? "").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** CPU ticks (user+system) and RSS of a process, from /proc. */
function procStat(pid: number): { ticks: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { ticks, rssMiB: rss ? Number(rss[1]) / 1024 : 0 };
}

async function mgmt<T>(adminPw: string, path: string): Promise<T> {
  const res = await fetch(`${MGMT}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${USERS.admin}:${adminPw}`).toString("base64")}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`management API ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function queueDepth(adminPw: string, queue: string): Promise<number> {
  const q = await mgmt<{ messages?: number }>(adminPw, `/api/queues/${encodeURIComponent(VHOST)}/${encodeURIComponent(queue)}?columns=messages`).catch(() => ({
    messages: NaN,
  }));
  return q.messages ?? 0;
}

/** One timed GET; a call that takes over 30 s counts as 30 s with status 0 (the run goes on). */
async function timed(url: string, token: string): Promise<{ ms: number; bytes: number; status: number; text: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
    const body = Buffer.from(await res.arrayBuffer());
    return { ms: performance.now() - t0, bytes: body.byteLength, status: res.status, text: body.byteLength < 2e6 ? body.toString("utf8") : "" };
  } catch {
    return { ms: performance.now() - t0, bytes: 0, status: 0, text: "" };
  }
}

/** Ready messages in a queue, counted by the broker now (the management API's figures lag by seconds). */
async function exactDepth(url: string, queue: string): Promise<number> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createChannel();
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Batches stored by every control replica (each counts what it ingested). */
async function storedBatches(token: string, replicas: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < replicas; i++) {
    const res = await fetch(`http://127.0.0.1:${API_PORT + i}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    for (const line of text.split("\n")) if (line.startsWith("herd_telemetry_batches_total")) sum += Number(line.split(" ").pop());
  }
  return sum;
}

/** The control child of the current run: killed on any exit of the bench. */
const currentControls: ChildProcess[] = [];
let currentGenerator: Generator | undefined;
process.on("exit", () => {
  currentGenerator?.kill();
  for (const c of currentControls) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Which control build runs: ours (this checkout) or a baseline checkout's dist (--baseline), with extra node flags (--control-args, e.g. --cpu-prof). */
interface ControlBuild {
  name: string;
  root: string;
  nodeArgs: string[];
}

async function startControl(build: ControlBuild, env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...build.nodeArgs, "dist/services/control/src/main.js"], {
    cwd: build.root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  currentControls.push(child);
  // The control is the system under test: it runs at normal priority even when the bench (the load) is niced,
  // else on a busy shared machine it measures the scheduler rather than the control.
  if (child.pid !== undefined) setPriority(child.pid, 0);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`control exited: ${stderr}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      /* not yet listening */
    }
    await sleep(200);
  }
  child.kill("SIGKILL");
  throw new Error(`control did not start: ${stderr}`);
}

async function stopControl(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  const deadline = Date.now() + 10_000;
  while (child.exitCode === null && Date.now() < deadline) await sleep(100);
  if (child.exitCode === null) child.kill("SIGKILL");
}

async function runOne(
  build: ControlBuild,
  n: number,
  seconds: number,
  secrets: { adminPassword: string; controlPassword: string; nodePasswords: Record<string, string> },
  extraEnv: Record<string, string>,
  generators: number,
  replicas: number,
): Promise<Row> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 2 });
  await redis.flushdb();
  const controlUrl = `amqp://${USERS.control}:${encodeURIComponent(secrets.controlPassword)}@127.0.0.1:5672/${VHOST}`;
  // Queues left by an earlier run start empty.
  {
    const conn = await amqp.connect(controlUrl);
    const ch = await conn.createChannel();
    await declareControlTopology(ch, conn);
    for (const q of [QUEUES.controlEvents, QUEUES.dead]) await ch.purgeQueue(q);
    // Each build declares the telemetry queue as it does (its arguments differ between builds: no DLX since issue 16's fourth pass).
    await ch.deleteQueue(QUEUES.telemetryIngest);
    await conn.close().catch(() => undefined);
  }
  const token = randomBytes(24).toString("hex");
  // --controls N: N replicas (API on API_PORT, API_PORT+1, …) competing for the telemetry queue, as "Scaling out" describes.
  const controls: ChildProcess[] = [];
  for (let i = 0; i < replicas; i++) {
    controls.push(
      await startControl(
        build,
        {
          HERD_AMQP_URL: controlUrl,
          HERD_REDIS_URL: redisUrl(),
          HERD_API_PORT: String(API_PORT + i),
          HERD_API_TOKEN: token,
          HERD_STATE_DIR: mkdtempSync(join(tmpdir(), "herd-scale-")),
          HERD_LOG_LEVEL: "warn",
          HERD_REBALANCE_AUTO: "false",
          HERD_REPLICA_ID: i === 0 ? "bench-control" : `bench-control-${i}`,
          ...extraEnv,
        },
        API_PORT + i,
      ),
    );
  }
  const pids = controls.map((c) => c.pid!);
  // CPU ticks summed over the replicas, RSS summed.
  const controlStat = () => pids.map(procStat).reduce((a, b) => ({ ticks: a.ticks + b.ticks, rssMiB: a.rssMiB + b.rssMiB }), { ticks: 0, rssMiB: 0 });
  {
    const conn = await amqp.connect(controlUrl);
    const ch = await conn.createChannel();
    for (let i = 0; i < n; i++) await declareNodeTopology(ch, nodeIdOf(i));
    for (let i = 0; i < n; i++) await ch.purgeQueue(QUEUES.commandsFor(nodeIdOf(i)));
    await conn.close().catch(() => undefined);
  }
  const deadCount = () => exactDepth(controlUrl, QUEUES.dead);

  const deadBefore = await deadCount();
  const generator = await Generator.start(
    Array.from({ length: n }, (_, i) => nodeIdOf(i)),
    secrets.nodePasswords,
    generators,
  );
  currentGenerator = generator;
  console.log(`  N=${n}: ${n} agents connected (${generators} generator processes); warming up 15 s`);
  await sleep(15_000);

  // Publish → stored latency: probe nodes' lastTelemetryAt (= the batch's sentAt) every 50 ms.
  const probes = Array.from({ length: Math.min(PROBES, n) }, (_, k) => nodeIdOf(Math.floor((k * n) / Math.min(PROBES, n))));
  const lastSeen = new Map<string, number>();
  const latencies: number[] = [];
  let secondLat: number[] = [];
  let probing = true;
  const probeLoop = (async () => {
    while (probing) {
      const p = redis.pipeline();
      for (const id of probes) p.hget(`herd:node:${id}`, "lastTelemetryAt");
      const res = (await p.exec()) ?? [];
      const now = Date.now();
      res.forEach(([, v], k) => {
        const at = Number(v);
        const id = probes[k]!;
        if (at && lastSeen.has(id) && lastSeen.get(id) !== at) {
          latencies.push(now - at);
          secondLat.push(now - at);
        }
        lastSeen.set(id, at);
      });
      await sleep(50);
    }
  })();

  const timeline: Second[] = [];
  const hz = 100; // USER_HZ
  const t0 = Date.now();
  const storedAtStart = await storedBatches(token, replicas);
  const publishedAtStart = generator.published();
  const genCpu0 = process.cpuUsage();
  const genWorkersCpu0 = generator.cpuMs();
  const redisCpu = async () => {
    const info = await redis.info("cpu");
    return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? NaN) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? NaN);
  };
  const brokerPid = brokerProcess();
  const brokerTicks = () => (brokerPid === undefined ? NaN : procStat(brokerPid).ticks);
  let prev = {
    ...controlStat(),
    at: Date.now(),
    cmds: Number(/total_commands_processed:(\d+)/.exec(await redis.info("stats"))![1]),
    pub: publishedAtStart,
    redisCpu: await redisCpu(),
    brokerTicks: brokerTicks(),
  };
  let rc = prev.redisCpu;
  let bt = prev.brokerTicks;
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(1000);
    const st = controlStat();
    const at = Date.now();
    const info = (await redis.info("stats")) + (await redis.info("memory"));
    const cmds = Number(/total_commands_processed:(\d+)/.exec(info)![1]);
    const used = Number(/used_memory:(\d+)/.exec(info)![1]);
    const pub = generator.published();
    const dt = (at - prev.at) / 1000;
    timeline.push({
      t: r1((at - t0) / 1000),
      controlCpuPct: r1((((st.ticks - prev.ticks) / hz) * 100) / dt),
      controlRssMiB: r1(st.rssMiB),
      redisUsedMiB: r1(used / 1024 / 1024),
      redisOpsPerSec: Math.round((cmds - prev.cmds) / dt),
      ingestDepth: await queueDepth(secrets.adminPassword, QUEUES.telemetryIngest),
      eventsDepth: await queueDepth(secrets.adminPassword, QUEUES.controlEvents),
      batchesPublished: Math.round((pub - prev.pub) / dt),
      latencyP99Ms: Math.round(pct(secondLat, 99)),
      redisCpuPct: r1((((rc = await redisCpu()) - prev.redisCpu) * 100) / dt),
      brokerCpuPct: r1(((((bt = brokerTicks()) - prev.brokerTicks) / hz) * 100) / dt),
      loadAvg1: loadavg()[0]!,
    });
    secondLat = [];
    prev = { ...st, at, cmds, pub, redisCpu: rc, brokerTicks: bt };
    if (timeline.length % 30 === 0) {
      const l = timeline[timeline.length - 1]!;
      console.log(`    t=${l.t}s control ${l.controlCpuPct}% rss ${l.controlRssMiB} MiB, ingest depth ${l.ingestDepth}, p99 ${l.latencyP99Ms} ms`);
    }
  }
  const windowS = (Date.now() - t0) / 1000;
  const publishedEnd = generator.published();
  // The latencies seen while only ingest ran; the rest are taken while the API and plan calls below load the control.
  const latenciesInWindow = latencies.length;
  // Lost by the window's end (before the API and plan calls below load the control): published, less stored, less what
  // is still on its way (queued ready, or delivered and not yet acked: at most the replicas' prefetch).
  const storedAtWindowEnd = await storedBatches(token, replicas);
  const queuedAtWindowEnd = await exactDepth(controlUrl, QUEUES.telemetryIngest);
  const lostInWindowAtMost = Math.max(0, generator.published() - storedAtWindowEnd - queuedAtWindowEnd);
  const genCpu = process.cpuUsage(genCpu0);
  const genWorkersCpuMs = generator.cpuMs() - genWorkersCpu0;

  // The API and a rebalance round on the live data, under the same load.
  const containersMs: number[] = [];
  const nodesMs: number[] = [];
  let containersBytes = 0;
  // At most 20 calls each, and no more than 60 s of calls (at least 3): a slow control must not stretch the run by many minutes.
  const apiUntil = Date.now() + 60_000;
  // Pages of 500 (GET /containers?limit=500, then its nextCursor), walking through the listing and starting over at its end.
  const pageMs: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20 && (i < 3 || Date.now() < apiUntil); i++) {
    const c = await timed(`http://127.0.0.1:${API_PORT}/api/v1/containers`, token);
    containersMs.push(c.ms);
    containersBytes = c.bytes;
    nodesMs.push((await timed(`http://127.0.0.1:${API_PORT}/api/v1/nodes`, token)).ms);
    for (let k = 0; k < 3; k++) {
      const pg = await timed(`http://127.0.0.1:${API_PORT}/api/v1/containers?limit=500${cursor ? `&cursor=${cursor}` : ""}`, token);
      pageMs.push(pg.ms);
      cursor = undefined;
      try {
        // A build without paging answers with the whole listing (too big to keep as text here): start over.
        if (pg.status === 200 && pg.text) cursor = (JSON.parse(pg.text) as { nextCursor?: string }).nextCursor;
      } catch {
        /* not JSON: start over */
      }
    }
  }
  const plans: number[] = [];
  const planCalls: NonNullable<Row["planCalls"]> = [];
  // The control's own account of the round, from the report (absent from builds before it): the last call's.
  let planTookMs: Row["planTookMs"];
  let planNote = "";
  const planUntil = Date.now() + 45_000;
  for (let i = 0; i < 4 && (i < 2 || Date.now() < planUntil); i++) {
    const p = await timed(`http://127.0.0.1:${API_PORT}/api/v1/plan`, token);
    plans.push(p.ms);
    let took: Row["planTookMs"];
    try {
      took = (JSON.parse(p.text) as { tookMs?: Row["planTookMs"] }).tookMs;
    } catch {
      /* not JSON (an error): no breakdown */
    }
    planTookMs = took ?? planTookMs;
    planCalls.push({ ms: Math.round(p.ms), bytes: p.bytes, ...(took ? { phasesMs: took.listing + took.series + took.forecast + took.decide } : {}) });
    if (p.status !== 200) planNote = p.status === 0 ? "GET /plan took over 30 s" : `GET /plan: HTTP ${p.status}`;
  }
  const metricsRuns: Array<{ ms: number; bytes: number }> = [];
  for (let i = 0; i < 5; i++) metricsRuns.push(await timed(`http://127.0.0.1:${API_PORT}/metrics`, token));

  // Stop the load, let the control drain what is queued, then count.
  generator.quiet();
  await generator.close();
  currentGenerator = undefined;
  const publishedTotal = generator.published();
  const drainUntil = Date.now() + 30_000;
  while (Date.now() < drainUntil && (await queueDepth(secrets.adminPassword, QUEUES.telemetryIngest)) > 0) await sleep(500);
  await sleep(1000);
  probing = false;
  await probeLoop;
  const storedTotal = await storedBatches(token, replicas);
  const deadAfter = await deadCount();
  await Promise.all(controls.map(stopControl));
  currentControls.length = 0;
  redis.disconnect();

  const cpu = timeline.map((s) => s.controlCpuPct);
  const row: Row = {
    build: build.name,
    controls: replicas,
    nodes: n,
    containers: n * CONTAINERS_PER_NODE,
    seconds: Math.round(windowS),
    batchesPublishedPerSec: r1((publishedEnd - publishedAtStart) / windowS),
    batchesStoredPerSec: 0,
    samplesStoredPerSec: 0,
    latencyP50Ms: Math.round(pct(latencies, 50)),
    latencyP99Ms: Math.round(pct(latencies, 99)),
    latencyP99InWindowMs: Math.round(pct(latencies.slice(0, latenciesInWindow), 99)),
    latencySamples: latencies.length,
    batchesPublished: publishedTotal,
    batchesStored: storedTotal,
    batchesLost: publishedTotal - storedTotal,
    batchesLostInWindowAtMost: lostInWindowAtMost,
    deadLettered: deadAfter - deadBefore,
    controlCpuPctOfCore: r1(cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length)),
    controlCpuPctOfCoreP95: r1(pct(cpu, 95)),
    controlRssMiB: r1(Math.max(...timeline.map((s) => s.controlRssMiB))),
    redisUsedMiB: r1(Math.max(...timeline.map((s) => s.redisUsedMiB))),
    redisOpsPerSec: Math.round(timeline.reduce((a, s) => a + s.redisOpsPerSec, 0) / Math.max(1, timeline.length)),
    ingestDepthMax: Math.max(...timeline.map((s) => s.ingestDepth)),
    eventsDepthMax: Math.max(...timeline.map((s) => s.eventsDepth)),
    containersP50Ms: Math.round(pct(containersMs, 50)),
    containersP99Ms: Math.round(pct(containersMs, 99)),
    containersPageP50Ms: Math.round(pct(pageMs, 50)),
    containersPageP99Ms: Math.round(pct(pageMs, 99)),
    nodesP50Ms: Math.round(pct(nodesMs, 50)),
    nodesP99Ms: Math.round(pct(nodesMs, 99)),
    planMs: Math.round(pct(plans.length > 1 ? plans.slice(1) : plans, 50)),
    planFirstMs: Math.round(plans[0]!),
    ...(planTookMs ? { planTookMs } : {}),
    planCalls,
    planNote: planNote || `${containersBytes} B containers listing`,
    metricsBytes: metricsRuns[0]!.bytes,
    metricsMs: Math.round(
      pct(
        metricsRuns.map((m) => m.ms),
        50,
      ),
    ),
    generatorCpuPctOfCore: r1((((genCpu.user + genCpu.system) / 1e3 + genWorkersCpuMs) / 1e3 / windowS) * 100),
    redisCpuPctOfCore: r1(timeline.reduce((a, x) => a + x.redisCpuPct, 0) / Math.max(1, timeline.length)),
    brokerCpuPctOfCore: r1(timeline.reduce((a, x) => a + x.brokerCpuPct, 0) / Math.max(1, timeline.length)),
    loadAvg1: r1(timeline.reduce((a, x) => a + x.loadAvg1, 0) / Math.max(1, timeline.length)),
    timeline,
  };
  // Stored during the window: the share of published batches that were stored (all, when nothing was lost) at the published rate.
  const storedInWindow = (storedTotal - storedAtStart) * ((publishedEnd - publishedAtStart) / Math.max(1, publishedTotal - publishedAtStart));
  row.batchesStoredPerSec = r1(storedInWindow / windowS);
  row.samplesStoredPerSec = Math.round(row.batchesStoredPerSec * CONTAINERS_PER_NODE);
  return row;
}

function markdown(rows: Row[], label: string, notes: string[]): string {
  const h = [
    "| control | N nodes | containers | window s | batches/s published | batches/s stored | samples/s stored | publish→stored p50 / p99 ms (p99 in the window alone) | batches lost (by the window's end, at most) | dead-lettered | control CPU % of a core (mean / p95) | control RSS MiB | Redis MiB | Redis ops/s | ingest queue max | events queue max | GET /containers p50 / p99 ms | GET /containers?limit=500 p50 / p99 ms | GET /nodes p50 / p99 ms | rebalance round (GET /plan) ms, median after the first call (the first): listing / series / forecast / decide of the last | /metrics bytes | /metrics ms | generator CPU % | Redis CPU % | broker CPU % | load avg |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    h.push(
      `| ${r.build}${r.controls > 1 ? ` ×${r.controls}` : ""} | ${r.nodes} | ${r.containers} | ${r.seconds} | ${r.batchesPublishedPerSec} | ${r.batchesStoredPerSec} | ${r.samplesStoredPerSec} | ${r.latencyP50Ms} / ${r.latencyP99Ms}${r.latencyP99InWindowMs === undefined ? "" : ` (${r.latencyP99InWindowMs})`} | ${r.batchesLost}${r.batchesLostInWindowAtMost === undefined ? "" : ` (${r.batchesLostInWindowAtMost})`} | ${r.deadLettered} | ${r.controlCpuPctOfCore} / ${r.controlCpuPctOfCoreP95} | ${r.controlRssMiB} | ${r.redisUsedMiB} | ${r.redisOpsPerSec} | ${r.ingestDepthMax} | ${r.eventsDepthMax} | ${r.containersP50Ms} / ${r.containersP99Ms} | ${r.containersPageP50Ms} / ${r.containersPageP99Ms} | ${r.nodesP50Ms} / ${r.nodesP99Ms} | ${r.planMs}${r.planFirstMs !== undefined ? ` (${r.planFirstMs})` : ""}${r.planTookMs ? `: ${r.planTookMs.listing} / ${r.planTookMs.series} / ${r.planTookMs.forecast} / ${r.planTookMs.decide}` : ""} | ${r.metricsBytes} | ${r.metricsMs} | ${r.generatorCpuPctOfCore} | ${r.redisCpuPctOfCore} | ${r.brokerCpuPctOfCore} | ${r.loadAvg1} |`,
    );
  }
  const cmp = comparison(rows);
  return [`## ${label}`, "", ...h, "", ...cmp, ...notes.map((n) => `- ${n}`), ""].join("\n");
}

/** Ours vs the baseline at each N measured with both: the figures side by side and ours / baseline. */
function comparison(rows: Row[]): string[] {
  const pairs = [...new Set(rows.map((r) => r.nodes))]
    .map((n) => ({ n, ours: rows.find((r) => r.nodes === n && r.build === "ours"), base: rows.find((r) => r.nodes === n && r.build === "baseline") }))
    .filter((p): p is { n: number; ours: Row; base: Row } => p.ours !== undefined && p.base !== undefined);
  if (pairs.length === 0) return [];
  const metrics: Array<[string, (r: Row) => number]> = [
    ["batches/s stored", (r) => r.batchesStoredPerSec],
    ["batches lost", (r) => r.batchesLost],
    ["publish→stored p99 ms", (r) => r.latencyP99Ms],
    ["control CPU % of a core", (r) => r.controlCpuPctOfCore],
    ["control CPU ms per stored batch", cpuPerBatchMs],
    ["Redis CPU ms per stored batch", (r) => perBatch(r, r.redisCpuPctOfCore)],
    ["broker CPU ms per stored batch", (r) => perBatch(r, r.brokerCpuPctOfCore)],
    ["Redis ops/s", (r) => r.redisOpsPerSec],
    ["Redis ops per stored batch", (r) => r1(r.redisOpsPerSec / Math.max(1e-9, r.batchesStoredPerSec))],
    ["GET /containers p99 ms", (r) => r.containersP99Ms],
    ["GET /containers?limit=500 p99 ms", (r) => r.containersPageP99Ms],
    ["GET /nodes p99 ms", (r) => r.nodesP99Ms],
    ["rebalance round ms", (r) => r.planMs],
    ["/metrics ms", (r) => r.metricsMs],
  ];
  const out = ["### Ours vs baseline (same run)", "", "| N | metric | baseline | ours | ours / baseline |", "|---:|---|---:|---:|---:|"];
  for (const { n, ours, base } of pairs) {
    for (const [name, f] of metrics) {
      const b = f(base);
      const o = f(ours);
      out.push(`| ${n} | ${name} | ${b} | ${o} | ${b === 0 ? (o === 0 ? "1" : "∞") : `×${(o / b).toFixed(2)}`} |`);
    }
  }
  return [...out, ""];
}

/** Control CPU time per stored batch (ms): mean CPU % of a core over the window / stored batches per second. */
function cpuPerBatchMs(r: Row): number {
  return perBatch(r, r.controlCpuPctOfCore);
}

/** ms of CPU per stored batch from a mean % of a core. */
function perBatch(r: Row, pctOfCore: number): number {
  return r.batchesStoredPerSec > 0 ? Math.round((pctOfCore * 10 * 100) / r.batchesStoredPerSec) / 100 : NaN;
}

/**
 * The run's plots, from its rows: one timeline per build at the largest N it ran, and each build's
 * cost by fleet size (a marker per N, so a run of one N still shows its points).
 */
function writePlots(label: string, rows: readonly Row[]): void {
  const byName = new Map<string, Row[]>();
  for (const r of rows) byName.set(r.build, [...(byName.get(r.build) ?? []), r]);
  // One timeline per build at the largest N it ran.
  for (const [name, mine] of byName) {
    const big = mine[mine.length - 1]!;
    const x = big.timeline.map((s) => s.t);
    writeFileSync(
      join(outDir, `scale-${label}-${name}-timeline.svg`),
      lineChart(`${name}, N=${big.nodes} (${big.containers} containers): control CPU, queue, latency`, "seconds", "% of a core / messages / ms÷10", [
        { name: "control CPU % of a core", x, y: big.timeline.map((s) => s.controlCpuPct) },
        { name: "telemetry ingest queue depth", x, y: big.timeline.map((s) => s.ingestDepth) },
        { name: "publish→stored p99 ms (per second) / 10", x, y: big.timeline.map((s) => (Number.isFinite(s.latencyP99Ms) ? s.latencyP99Ms / 10 : 0)) },
        { name: "batches published per second", x, y: big.timeline.map((s) => s.batchesPublished) },
      ]),
    );
  }
  const byBuild = (f: (r: Row) => number, what: string) =>
    [...byName].map(([name, mine]) => ({ name: `${what} (${name})`, x: mine.map((r) => r.nodes), y: mine.map(f) }));
  writeFileSync(
    join(outDir, `scale-${label}-by-n.svg`),
    scatterChart(`bench:scale (${label}): cost by fleet size`, "nodes (×20 containers)", "value", [
      ...byBuild((r) => r.controlCpuPctOfCore, "control CPU % of a core"),
      ...byBuild(cpuPerBatchMs, "control CPU ms per batch × 100").map((s) => ({ ...s, y: s.y.map((v) => v * 100) })),
      ...byBuild((r) => r.latencyP99Ms / 10, "publish→stored p99 ms / 10"),
      ...byBuild((r) => r.containersP99Ms / 10, "GET /containers p99 ms / 10"),
    ]),
  );
}

async function main(): Promise<void> {
  const program = new Command("bench:scale")
    .option("--nodes <list>", "comma-separated node counts", "100,500,1000")
    .option("--seconds <s>", "measured window per N (after 15 s warm-up)", "60")
    .option("--last-seconds <s>", "measured window of the largest N", "600")
    .option("--label <label>", "name of this run (results go to scale-<label>.{md,json})", "current")
    .option("--env <k=v...>", "extra control settings for this run", [])
    .option("--baseline <dir>", "also run the control built in this checkout (its dist/) at each N, before ours: side by side in one run")
    .option("--controls <n>", "control replicas (each ingests; CPU/RSS summed)", "1")
    .option("--generators <n>", "load generator processes (each plays a share of the agents)", "4")
    .option("--replot <label>", "only redraw the plots of an earlier run from its bench/results/scale-<label>.json, then exit")
    .option("--control-args <args>", "extra node flags for the control child (space-separated, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)", "")
    .parse(process.argv);
  const o = program.opts<{
    nodes: string;
    seconds: string;
    lastSeconds: string;
    label: string;
    env: string[];
    baseline?: string;
    controlArgs: string;
    generators: string;
    controls: string;
    replot?: string;
  }>();
  if (o.replot !== undefined) {
    const file = join(outDir, `scale-${o.replot}.json`);
    if (!existsSync(file)) throw new Error(`--replot: no ${file}`);
    const saved = JSON.parse(readFileSync(file, "utf8")) as { rows: Row[] };
    writePlots(o.replot, saved.rows);
    console.log(`redrew the plots of bench/results/scale-${o.replot}.json`);
    process.exit(0);
  }
  const replicas = Number(o.controls);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 4) throw new Error(`--controls: a whole number from 1 to 4, got ${o.controls}`);
  const generators = Number(o.generators);
  if (!Number.isInteger(generators) || generators < 1 || generators > 16) throw new Error(`--generators: a whole number from 1 to 16, got ${o.generators}`);
  const nodeArgs = o.controlArgs.split(" ").filter((a) => a.length > 0);
  const builds: ControlBuild[] = [...(o.baseline ? [{ name: "baseline", root: o.baseline, nodeArgs }] : []), { name: "ours", root, nodeArgs }];
  for (const b of builds) {
    if (!existsSync(join(b.root, "dist/services/control/src/main.js")))
      throw new Error(`--baseline: no dist/services/control/src/main.js under ${b.root} (build it first)`);
  }
  const ns = o.nodes.split(",").map(Number);
  if (ns.some((n) => !Number.isInteger(n) || n < 1 || n > 2000)) throw new Error(`--nodes: whole numbers from 1 to 2000, got ${o.nodes}`);
  const extraEnv = Object.fromEntries(o.env.map((kv) => kv.split("=") as [string, string]));
  const max = Math.max(...ns);
  const nodePasswords = Object.fromEntries(Array.from({ length: max }, (_, i) => [nodeIdOf(i), randomBytes(16).toString("hex")]));
  const secrets = { adminPassword: randomBytes(16).toString("hex"), controlPassword: randomBytes(16).toString("hex"), nodePasswords };
  const admin = new RabbitmqBrokerAdmin({ managementUrl: MGMT, adminUser: USERS.admin, userPrefix: "scale-bench-", log });
  console.log(`bench:scale: provisioning vhost ${VHOST} with ${max} node users (as herd up does)…`);
  const t = Date.now();
  await admin.provision(brokerSpec({ vhost: VHOST, users: USERS, ...secrets }));
  console.log(`  provisioned in ${Math.round((Date.now() - t) / 1000)} s`);
  const rows: Row[] = [];
  try {
    for (const n of ns) {
      for (const build of builds) {
        // The long window is for our build at the largest N; a baseline run there gets the short one.
        const seconds = n === max && build.name === "ours" ? Number(o.lastSeconds) : Number(o.seconds);
        console.log(`N=${n} (${build.name}): ${seconds} s`);
        rows.push(await runOne(build, n, seconds, secrets, extraEnv, Math.min(generators, n), replicas));
        const r = rows[rows.length - 1]!;
        console.log(`  ${JSON.stringify({ ...r, timeline: undefined })}`);
      }
    }
  } finally {
    await new RabbitmqBrokerAdmin({ managementUrl: MGMT, adminUser: USERS.admin, userPrefix: "scale-bench-", adminPassword: secrets.adminPassword, log })
      .deprovision(VHOST)
      .catch((err: unknown) => console.error(`deprovision failed: ${String(err)}`));
  }
  mkdirSync(outDir, { recursive: true });
  const label = o.label;
  writeFileSync(join(outDir, `scale-${label}.json`), JSON.stringify({ label, env: extraEnv, at: new Date().toISOString(), rows }, null, 1));
  writeFileSync(join(outDir, `scale-${label}.md`), markdown(rows, `bench:scale (${label}${Object.keys(extraEnv).length ? `, ${o.env.join(" ")}` : ""})`, []));
  writePlots(label, rows);
  console.log(`wrote bench/results/scale-${label}.{md,json} and plots`);
  process.exit(0);
}

const entry = process.argv.includes("--worker") ? worker() : main();
entry.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
