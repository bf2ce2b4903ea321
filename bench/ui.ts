/**
 * bench:ui — the dashboard's first paint and transfer size with 200 containers, on the real local
 * cluster: `herd up --nodes 2`, plus two more nodes (p1, p2) whose agents are replaced by a
 * publisher sending 100 containers' telemetry each, once a second, through the real broker (their
 * own broker users, same permissions as a node's) to the real control service. Then headless
 * Chromium (Debian's package) loads /ui cold several times.
 *
 * Side by side in the same run: the page operators had before (RabbitMQ's management UI) and the
 * per-row polling the live stream replaces (one metrics request per container per second).
 *
 * Run with no local cluster up: npm run bench:ui
 * Env: HERD_BENCH_RUNS (default 5), HERD_BENCH_OUT (default bench/results).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import amqp from "amqplib";
import { ZERO_CONTAINER_USAGE, type ContainerSample, type Heartbeat, type TelemetryBatch } from "../shared/src/contracts/index.js";
import { createLogger } from "../shared/src/logger.js";
import { EXCHANGES, ROUTING } from "../shared/src/topology.js";
import { nodePermissions } from "../services/cli/src/local-cluster/broker-permissions.js";
import { RabbitmqBrokerAdmin } from "../services/cli/src/local-cluster/rabbitmq-broker-admin.js";
import { apiGet, herd, newCluster, repoRoot, waitFor } from "../test/integration/support/cluster-harness.js";
import { launchChromium } from "../test/integration/support/chromium.js";
import { SseParser } from "../services/control/ui/src/sse.js";

const FAKE_NODES = ["p1", "p2"];
const PER_NODE = 100;
const VHOST = "herd";
const RUNS = Number(process.env.HERD_BENCH_RUNS ?? 5);
const WARMUP_S = 30;

interface PaintRun {
  fcpMs: number;
  dataPaintedMs: number;
  rows: number;
  transferBytes: number;
  decodedBytes: number;
  requests: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One fake node: heartbeats and a 100-container telemetry batch every second, as an agent would. */
async function startFakeNode(nodeId: string, password: string): Promise<() => Promise<void>> {
  const conn = await amqp.connect(`amqp://herd-node-${nodeId}:${encodeURIComponent(password)}@127.0.0.1:5672/${VHOST}`);
  const ch = await conn.createConfirmChannel();
  const startedAt = Date.now();
  const containers: ContainerSample[] = Array.from({ length: PER_NODE }, (_, i) => ({
    id: randomBytes(32).toString("hex"),
    name: `${nodeId}-svc-${String(i).padStart(3, "0")}`,
    image: ["herd/workload:latest", "nginx:1.27", "redis:7", "postgres:16"][i % 4]!,
    state: i % 25 === 24 ? "exited" : "running",
    labels: {},
    ...ZERO_CONTAINER_USAGE,
    cpuPct: (i * 7) % 40,
    memBytes: (20 + ((i * 13) % 180)) * 1024 * 1024,
    memLimitBytes: null,
    pids: 3,
  }));
  let seq = 0;
  const tick = () => {
    const now = Date.now();
    for (const c of containers) {
      if (c.state !== "running") continue;
      c.cpuPct = Math.max(0, Math.min(100, c.cpuPct + (Math.random() - 0.5) * 6));
      c.memBytes = Math.max(8 << 20, c.memBytes + Math.round((Math.random() - 0.5) * (2 << 20)));
    }
    const hb: Heartbeat = { v: 1, kind: "heartbeat", nodeId, sentAt: now, startedAt, agentVersion: "bench-ui", containers: PER_NODE };
    const batch: TelemetryBatch = {
      v: 1,
      kind: "telemetry",
      nodeId,
      seq: seq++,
      sentAt: now,
      intervalMs: 1000,
      node: { cpuCores: 4, cpuPct: 20 + Math.random() * 10, memTotalBytes: 16 * 1024 ** 3, memUsedBytes: 6 * 1024 ** 3 + Math.random() * 1e8 },
      containers,
    };
    ch.publish(EXCHANGES.events, ROUTING.heartbeat(nodeId), Buffer.from(JSON.stringify(hb)));
    ch.publish(EXCHANGES.telemetry, ROUTING.telemetry(nodeId), Buffer.from(JSON.stringify(batch)));
  };
  tick();
  const timer = setInterval(tick, 1000);
  return async () => {
    clearInterval(timer);
    await ch.close().catch(() => undefined);
    await conn.close().catch(() => undefined);
  };
}

/**
 * What the live stream costs in `ms` after its hello, read like the page does (gzip asked for):
 * bytes on the wire (compressed) and after decompression.
 */
async function streamCost(apiUrl: string, token: string, ms: number) {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let wire = 0;
  let wireAtHello = 0;
  let helloBytes = 0;
  let tickBytes = 0;
  let ticks = 0;
  let started = 0;
  await new Promise<void>((resolveDone, reject) => {
    const req = httpRequest(new URL("/api/v1/stream", apiUrl), { headers: { authorization: `Bearer ${token}`, "accept-encoding": "gzip" } }, (res) => {
      if (res.headers["content-encoding"] !== "gzip") reject(new Error("stream not gzip-encoded"));
      const gunzip = createGunzip();
      res.on("data", (c: Buffer) => (wire += c.length));
      res.pipe(gunzip);
      gunzip.on("data", (chunk: Buffer) => {
        for (const e of parser.push(decoder.decode(chunk, { stream: true }))) {
          const bytes = Buffer.byteLength(e.data) + e.event.length + 16;
          if (e.event === "hello") {
            helloBytes = bytes;
            wireAtHello = wire;
            started = Date.now();
            setTimeout(() => {
              req.destroy();
              resolveDone();
            }, ms);
          } else if (e.event === "tick") {
            tickBytes += bytes;
            ticks++;
          }
        }
      });
      gunzip.on("error", () => undefined);
    });
    req.on("error", (err) => (started ? undefined : reject(err)));
    req.setTimeout(ms + 30_000, () => req.destroy(new Error("stream timed out")));
    req.end();
  });
  const secs = ms / 1000;
  return {
    helloBytes,
    helloWireBytes: wireAtHello,
    tickBytesPerSec: tickBytes / secs,
    tickWireBytesPerSec: (wire - wireAtHello) / secs,
    ticksPerSec: ticks / secs,
  };
}

async function main(): Promise<void> {
  const outDir = process.env.HERD_BENCH_OUT ?? join(repoRoot, "bench/results");
  const log = createLogger({ level: "warn" });
  const cluster = newCluster();
  if (cluster.info()) throw new Error("a local cluster is already up: run `herd down` first");
  const up = await herd("up", "--nodes", "2");
  if (up.code !== 0) throw new Error(`herd up failed: ${up.stderr}`);
  const info = cluster.info()!;
  const stops: Array<() => Promise<void>> = [];
  try {
    // Broker users for the two publisher nodes, with exactly a node's permissions.
    const passwords = Object.fromEntries(FAKE_NODES.map((n) => [n, randomBytes(18).toString("base64url")]));
    const admin = new RabbitmqBrokerAdmin({
      managementUrl: info.amqp.managementUrl,
      adminUser: info.amqp.adminUser,
      adminPassword: info.amqp.adminPassword,
      userPrefix: "herd-",
      log,
    });
    await admin.provision({
      vhost: VHOST,
      users: [
        {
          name: info.amqp.adminUser,
          password: info.amqp.adminPassword,
          tags: ["administrator"],
          permission: { configure: ".*", write: ".*", read: ".*" },
          topicPermissions: [],
        },
        ...FAKE_NODES.map((n) => ({ name: `herd-node-${n}`, password: passwords[n]!, tags: [], ...nodePermissions(n) })),
      ],
    });
    for (const n of FAKE_NODES) stops.push(await startFakeNode(n, passwords[n]!));
    const total = FAKE_NODES.length * PER_NODE;
    await waitFor(
      `${total} containers in control`,
      async () => (await apiGet<{ containers: unknown[] }>(info, "/containers")).containers.length >= total,
      60_000,
      500,
    );
    process.stderr.write(`bench:ui: ${total} containers reported; ${WARMUP_S} s of history…\n`);
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));

    const url = new URL("/ui/", info.apiUrl).href;
    const runs: PaintRun[] = [];
    let loginFcp = 0;
    for (let i = 0; i < RUNS; i++) {
      const b = await launchChromium({ width: 1600, height: 1000 });
      try {
        const page = await b.context.newPage();
        if (i === 0) {
          // The sign-in page, cold, without a token.
          await page.goto(url, { waitUntil: "load" });
          await page.locator("#token").waitFor();
          loginFcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
          await page.evaluate(() => {
            sessionStorage.clear();
          });
          await page.close();
          await b.context.clearCookies();
        }
        const p = await b.context.newPage();
        await p.addInitScript((t) => sessionStorage.setItem("herd.token", t), info.apiToken);
        // A fresh profile and a new page: nothing cached from the sign-in load above but the HTTP cache, cleared here.
        const cdp = await b.context.newCDPSession(p);
        await cdp.send("Network.clearBrowserCache");
        await p.goto(url, { waitUntil: "commit" });
        await p.locator("html[data-ready='1']").waitFor({ timeout: 30_000 });
        const r = await p.evaluate(() => {
          const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
          const res = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
          const files = res.filter((x) => x.name.includes("/ui/"));
          return {
            fcpMs: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
            dataPaintedMs: performance.getEntriesByName("herd-data-painted")[0]?.startTime ?? -1,
            rows: document.querySelectorAll("tr[data-container]").length,
            transferBytes: nav.transferSize + files.reduce((a, x) => a + x.transferSize, 0),
            decodedBytes: nav.decodedBodySize + files.reduce((a, x) => a + x.decodedBodySize, 0),
            requests: 1 + files.length,
          };
        });
        if (r.rows < total) throw new Error(`run ${i + 1}: only ${r.rows} of ${total} container rows were painted`);
        runs.push(r);
        if (i === RUNS - 1) {
          await mkdir(join(repoRoot, "test-artifacts/ui"), { recursive: true });
          await p.screenshot({ path: join(repoRoot, "test-artifacts/ui/bench-200-containers.png"), fullPage: false });
        }
      } finally {
        await b.close();
      }
    }

    // Baseline 1: RabbitMQ's management UI, cold, same browser settings (its login page).
    const rb = await launchChromium();
    let rabbit = { fcpMs: -1, transferBytes: 0, requests: 0 };
    try {
      const page = await rb.context.newPage();
      await page.goto(info.amqp.managementUrl, { waitUntil: "load" });
      await page.waitForTimeout(500);
      rabbit = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        const res = performance.getEntriesByType("resource") as PerformanceResourceTiming[];
        return {
          fcpMs: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
          transferBytes: nav.transferSize + res.reduce((a, x) => a + x.transferSize, 0),
          requests: 1 + res.length,
        };
      });
    } finally {
      await rb.close();
    }

    // Baseline 2: what per-row polling would cost each second (one metrics request per container).
    const { containers } = await apiGet<{ containers: Array<{ id: string }> }>(info, "/containers");
    const t0 = performance.now();
    let pollBytes = 0;
    for (let i = 0; i < containers.length; i += 20) {
      const chunk = containers.slice(i, i + 20);
      const sizes = await Promise.all(
        chunk.map(async (c) => {
          const res = await fetch(new URL(`/api/v1/containers/${c.id}/metrics?limit=60`, info.apiUrl), {
            headers: { authorization: `Bearer ${info.apiToken}` },
          });
          return (await res.arrayBuffer()).byteLength;
        }),
      );
      pollBytes += sizes.reduce((a, b) => a + b, 0);
    }
    const pollMs = performance.now() - t0;
    const stream = await streamCost(info.apiUrl, info.apiToken, 10_000);

    const result = {
      meta: {
        date: new Date().toISOString(),
        machine: `${cpus().length} cores (shared with other work)`,
        containers: containers.length,
        runs: RUNS,
        browser: "Debian chromium, headless, playwright-core",
      },
      dashboard: {
        dataPaintedMedianMs: median(runs.map((r) => r.dataPaintedMs)),
        fcpMedianMs: median(runs.map((r) => r.fcpMs)),
        loginFcpMs: loginFcp,
        transferBytes: median(runs.map((r) => r.transferBytes)),
        decodedBytes: median(runs.map((r) => r.decodedBytes)),
        requests: runs[0]?.requests ?? 0,
        runs,
      },
      stream,
      baselines: { rabbitmqManagement: rabbit, perRowPolling: { requestsPerSec: containers.length, bytesPerSec: pollBytes, roundMs: pollMs } },
    };
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, "ui.json"), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(join(outDir, "ui.md"), markdown(result));
    process.stdout.write(markdown(result));
  } finally {
    for (const s of stops) await s();
    await cluster.down().catch((err: unknown) => process.stderr.write(`herd down failed: ${String(err)}\n`));
  }
}

function markdown(r: {
  meta: Record<string, unknown>;
  dashboard: {
    dataPaintedMedianMs: number;
    fcpMedianMs: number;
    loginFcpMs: number;
    transferBytes: number;
    decodedBytes: number;
    requests: number;
    runs: PaintRun[];
  };
  stream: { helloBytes: number; helloWireBytes: number; tickBytesPerSec: number; tickWireBytesPerSec: number; ticksPerSec: number };
  baselines: {
    rabbitmqManagement: { fcpMs: number; transferBytes: number; requests: number };
    perRowPolling: { requestsPerSec: number; bytesPerSec: number; roundMs: number };
  };
}): string {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const d = r.dashboard;
  const rb = r.baselines.rabbitmqManagement;
  const poll = r.baselines.perRowPolling;
  return `# Dashboard: first paint and transfer size (bench:ui)

${r.meta.containers} containers on the real local cluster (2 real nodes + 2 nodes whose telemetry is published through the real broker to the real control service), ${r.meta.runs} cold loads in headless Chromium, ${r.meta.machine}. ${r.meta.date}.

| | Herd dashboard (/ui) | RabbitMQ management UI (baseline) |
|---|---|---|
| first contentful paint (median) | ${d.fcpMedianMs.toFixed(0)} ms | ${rb.fcpMs.toFixed(0)} ms (its sign-in page) |
| all ${r.meta.containers} containers' rows painted, with sparklines (median) | **${d.dataPaintedMedianMs.toFixed(0)} ms** (target < 1000 ms) | – |
| transfer size of the page (compressed, on the wire; the live stream's first frame is counted below) | **${kb(d.transferBytes)}** in ${d.requests} requests (${kb(d.decodedBytes)} uncompressed) | ${kb(rb.transferBytes)} in ${rb.requests} requests (${(rb.transferBytes / d.transferBytes).toFixed(1)}×) |
| sign-in page first paint | ${d.loginFcpMs.toFixed(0)} ms | |

Runs (ms to data painted): ${d.runs.map((x) => x.dataPaintedMs.toFixed(0)).join(", ")}; rows painted: ${d.runs.map((x) => x.rows).join(", ")}.

## Live updates: one stream vs per-row polling

| | live stream (SSE, one connection) | per-row polling (1 request per container per second) |
|---|---|---|
| first frame (hello: everything + last minute of history) | ${kb(r.stream.helloWireBytes)} on the wire (${kb(r.stream.helloBytes)} uncompressed) | – |
| steady state | ${kb(r.stream.tickWireBytesPerSec)}/s on the wire (${kb(r.stream.tickBytesPerSec)}/s uncompressed) in ${r.stream.ticksPerSec.toFixed(1)} frames/s | ${kb(poll.bytesPerSec)}/s in ${poll.requestsPerSec} requests/s (${(poll.bytesPerSec / Math.max(1, r.stream.tickWireBytesPerSec)).toFixed(0)}× the bytes on the wire); one round took ${poll.roundMs.toFixed(0)} ms |

"Data painted" is a performance mark the page sets in the first animation frame after it has rendered the stream's first frame, measured from navigation start; the page's files come gzip-compressed from memory.
`;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ui failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
