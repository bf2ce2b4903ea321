// The dashboard's server side against a real Redis (as Herd's ACL user, random key prefix): the static files at /ui
// and the live stream fed by the state control keeps (RedisStateStore + RedisMigrationStore).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import express from "express";
import { Redis } from "ioredis";
import { createLogger } from "../../shared/src/logger.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";
import { ZERO_CONTAINER_USAGE, type ContainerSample, type TelemetryBatch } from "../../shared/src/contracts/index.js";
import { requireToken } from "../../services/control/src/api/auth.js";
import { RedisMigrationStore } from "../../services/control/src/migration/migration-store.js";
import type { MigrationRecord } from "../../services/control/src/migration/migration-record.js";
import { RedisStateStore } from "../../services/control/src/state/redis-state-store.js";
import { dashboard } from "../../services/control/src/ui/dashboard.js";
import type { HelloFrame, TickFrame } from "../../services/control/src/ui/feed-frames.js";
import { SseParser } from "../../services/control/ui/src/sse.js";
import { repoRoot } from "./support/cluster-harness.js";

const prefix = `herd-test-${randomBytes(4).toString("hex")}:`;
const token = randomBytes(16).toString("hex");
let redis: Redis;
let server: Server;
let base: string;
let close: () => void;
const state = () => new RedisStateStore(redis, 100, prefix);
const migrations = () => new RedisMigrationStore(redis, prefix);

const sample = (n: number, cpuPct: number): ContainerSample => ({
  id: n.toString(16).padStart(12, "0").padEnd(64, "a"),
  name: `web-${n}`,
  image: "herd/workload:latest",
  state: "running",
  labels: {},
  ...ZERO_CONTAINER_USAGE,
  cpuPct,
  memBytes: 1_000_000 + n,
  memLimitBytes: null,
  pids: 1,
});
const batch = (nodeId: string, sentAt: number, containers: ContainerSample[]): TelemetryBatch => ({
  v: 1,
  kind: "telemetry",
  nodeId,
  seq: sentAt,
  sentAt,
  intervalMs: 1000,
  node: { cpuCores: 2, cpuPct: 12, memTotalBytes: 8e9, memUsedBytes: 2e9 },
  containers,
});

/** Reads SSE events from the stream until `until` says stop (or the deadline passes). */
async function readStream(headers: Record<string, string>, until: (events: Array<{ event: string; data: unknown }>) => boolean, timeoutMs = 15_000) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: Array<{ event: string; data: unknown }> = [];
  try {
    const res = await fetch(`${base}/api/v1/stream`, { headers, signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    // Node's fetch asks for gzip, as browsers do; frames still arrive one by one (flushed each).
    assert.equal(res.headers.get("content-encoding"), "gzip");
    const parser = new SseParser();
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const e of parser.push(value)) events.push({ event: e.event, data: JSON.parse(e.data) });
      if (until(events)) break;
    }
    ac.abort();
    return events;
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  redis = new Redis(hostRedisUrl());
  const ui = await dashboard({
    state: state(),
    migrations: migrations(),
    downAfterMs: 6000,
    log: createLogger({ level: "error" }),
    uiDir: resolve(repoRoot, "dist/ui"),
  });
  close = ui.close;
  const app = express();
  app.use(ui.pages);
  app.use("/api/v1", requireToken(token), ui.stream);
  await new Promise<void>((r) => {
    server = app.listen(0, "127.0.0.1", () => r());
  });
  const addr = server.address();
  assert.ok(addr && typeof addr === "object");
  base = `http://127.0.0.1:${addr.port}`;
});

after(async () => {
  close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe("dashboard static files", () => {
  it("serves the page gzip-compressed with a strict content security policy", async () => {
    const res = await fetch(`${base}/ui/`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/);
    const html = await res.text(); // fetch decompresses
    assert.match(html, /<script type="module" src="\/ui\/main.js">/);
    assert.doesNotMatch(html, /https?:\/\//, "the page loads nothing from another origin");
  });

  it("serves every script the page preloads, and answers 304 to a matching ETag", async () => {
    const html = await (await fetch(`${base}/ui`)).text();
    const scripts = [...html.matchAll(/href="\/ui\/([a-z-]+\.js)"/g)].map((m) => m[1]!);
    assert.ok(scripts.length >= 5, `preloads: ${scripts.join(", ")}`);
    for (const s of [...scripts, "main.js", "style.css"]) {
      const res = await fetch(`${base}/ui/${s}`);
      assert.equal(res.status, 200, s);
      const etag = res.headers.get("etag");
      assert.ok(etag);
      assert.equal((await fetch(`${base}/ui/${s}`, { headers: { "if-none-match": etag } })).status, 304, s);
    }
  });

  it("stores compressed bytes that decompress to the file", async () => {
    const raw = await fetch(`${base}/ui/main.js`, { headers: { "accept-encoding": "identity" } });
    const plain = Buffer.from(await raw.arrayBuffer());
    assert.equal(raw.headers.get("content-encoding"), null);
    const { request } = await import("node:http");
    const gz = await new Promise<Buffer>((res, rej) => {
      request(`${base}/ui/main.js`, { headers: { "accept-encoding": "gzip" } }, (r) => {
        assert.equal(r.headers["content-encoding"], "gzip");
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => res(Buffer.concat(chunks)));
      })
        .on("error", rej)
        .end();
    });
    assert.ok(gz.length < plain.length);
    assert.deepEqual(gunzipSync(gz), plain);
  });

  it("answers 404 naming the file for anything else, including path tricks", async () => {
    const res = await fetch(`${base}/ui/nope.js`);
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /nope\.js/);
    assert.equal((await fetch(`${base}/ui/..%2Fpackage.json`)).status, 404);
  });
});

describe("live stream", () => {
  it("refuses a request without the token", async () => {
    const res = await fetch(`${base}/api/v1/stream`);
    assert.equal(res.status, 401);
  });

  it("starts with everything and recent history, then pushes only what changed", async () => {
    const s = state();
    const t0 = Date.now() - 3000;
    const cs = Array.from({ length: 30 }, (_, i) => sample(i + 1, 1));
    await s.recordTelemetry(batch("n1", t0, cs));
    await s.recordTelemetry(batch("n1", t0 + 1000, cs));
    const events = await readStream({ authorization: `Bearer ${token}` }, (ev) => {
      if (ev.length === 1) {
        // Once the hello is in: one container's usage moves, one migration starts.
        void (async () => {
          await s.recordTelemetry(batch("n1", Date.now(), [sample(1, 77), ...cs.slice(1)]));
          const m: MigrationRecord = {
            id: "mig-ui-1",
            containerId: cs[0]!.id,
            containerName: "web-1",
            source: "n1",
            destination: "n2",
            state: "running",
            step: "precopy",
            steps: [{ name: "describe", node: "n1", startedAt: Date.now(), finishedAt: Date.now(), ok: true }],
            createdAt: Date.now(),
            updatedAt: Date.now(),
            frozen: false,
            bytes: 0,
          };
          await migrations().save(m);
        })();
      }
      const ticks = ev.filter((e) => e.event === "tick").map((e) => e.data as TickFrame);
      return ticks.some((t) => t.samples[cs[0]!.id]?.[1] === 77) && ticks.some((t) => t.migrations.some((m) => m.id === "mig-ui-1"));
    });
    const hello = events[0];
    assert.equal(hello?.event, "hello");
    const h = hello.data as HelloFrame;
    assert.equal(h.containers.length, 30);
    assert.equal(h.nodes[0]?.status, "up");
    assert.equal(h.history.containers[cs[0]!.id]?.length, 2);
    const ticks = events.filter((e) => e.event === "tick").map((e) => e.data as TickFrame);
    const withSample = ticks.find((t) => t.samples[cs[0]!.id]);
    assert.ok(withSample);
    assert.deepEqual(withSample.upsert, [], "usage changes do not resend the container");
    assert.equal(Object.keys(withSample.samples).length, 30);
    const mt = ticks.find((t) => t.migrations.length);
    assert.equal(mt?.migrations[0]?.containerName, "web-1");
    assert.equal("spec" in (mt?.migrations[0] ?? {}), false);
  });
});
