import { setImmediate as yieldToLoop } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Heartbeat, TelemetryBatch } from "../../../../shared/src/contracts/index.js";
import type { ContainerRecord, MetricPoint, NodeMetricPoint, NodeRecord, PlanPoint, StateStore } from "./state-store.js";

import { compareKeys } from "./container-order.js";
import { PLAN_CURRENT_LUA, RECORD_TELEMETRY_LUA, runScript } from "./record-telemetry-script.js";
import { WriteBatcher } from "./write-batcher.js";

/** Redis layout (all keys under `prefix`, default "herd:"): see record-telemetry-script.ts. */
/** A container history's one-day expiry is refreshed every this many batches (and when it appears). */
const EXPIRE_EVERY = 100;
/** Histories are trimmed every this many batches (a list holds at most historyLength + this; reads take the newest historyLength). */
const TRIM_EVERY = 10;
/** Telemetry batches per script call at most (those started in one turn of the event loop: WriteBatcher). */
const BATCHES_PER_WRITE = 20;
/** Container records per MGET when listing (see listContainers). */
const LIST_CHUNK = 2_000;
/**
 * Planning series per MGET, and nodes per in-progress script. Few large commands rather than many small ones: under ingest
 * load each command on the reader connection waits its turn behind the replicas' ingest scripts in Redis, so a round's 60
 * reads (500 series, 50 nodes each) took 1.4 s at 1,000 nodes against ~0.3 s on an idle Redis (bench:scale). A script for
 * 100 nodes holds Redis ~15–30 ms, about as long as one ingest script.
 */
const SERIES_CHUNK = 2_000;
const CURRENT_NODES_CHUNK = 100;

/** The planning series kept at ingest: one mean CPU % per `intervalMs` (the rebalance interval), the newest `points`. */
export interface PlanSeriesOptions {
  intervalMs: number;
  points: number;
  /**
   * Nodes close a finished interval up to this long into the next one, each at its own offset (see
   * record-telemetry-script.ts); at most half the interval. Default: half the interval; 0 closes at the first batch.
   */
  closeSpreadMs?: number;
}

/** A node's offset into each interval before it closes the previous one: FNV-1a of its id, in [0, spreadMs). */
export function closeDelayMs(nodeId: string, spreadMs: number): number {
  if (spreadMs < 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) h = Math.imul(h ^ nodeId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % Math.floor(spreadMs);
}

export class RedisStateStore implements StateStore {
  private readonly telemetryWrites = new WriteBatcher<TelemetryBatch>((batches) => this.recordTelemetryMany(batches), BATCHES_PER_WRITE);

  constructor(
    private readonly redis: Redis,
    private readonly historyLength = 600,
    private readonly prefix = "herd:",
    private readonly plan: PlanSeriesOptions = { intervalMs: 10_000, points: 60 },
    /**
     * The connection for bulk reads (listings, planning series, histories). Replies on one connection come in order, so on the
     * ingest connection every read waited behind up to a prefetch of ingest scripts per round trip, and a rebalance round makes
     * dozens of them (bench:scale at 1,000 nodes: 12 s rounds). Default: the same connection. Closed with the store.
     */
    private readonly reader: Redis = redis,
  ) {}

  private k(...parts: string[]): string {
    return this.prefix + parts.join(":");
  }

  /**
   * One round trip for the batches recorded in one turn of the event loop (up to {@link BATCHES_PER_WRITE}): a Lua
   * script does every write in Redis, batch after batch (see record-telemetry-script.ts for why). Only what changed is written besides the samples: set
   * members and name owners when new or moved, a history's expiry when the container appears and
   * then every {@link EXPIRE_EVERY} batches; the planning series gains a point per interval.
   */
  recordTelemetry(b: TelemetryBatch): Promise<void> {
    return this.telemetryWrites.write(b);
  }

  /** Several batches in one script call (each batch still atomic on its own, in the order given). */
  async recordTelemetryMany(batches: readonly TelemetryBatch[]): Promise<void> {
    if (batches.length === 0) return;
    const args: Array<string | number> = [this.prefix, this.historyLength, this.plan.intervalMs, this.plan.points, batches.length];
    for (const b of batches) this.pushBatchArgs(args, b);
    await runScript(this.redis, RECORD_TELEMETRY_LUA, args);
  }

  private pushBatchArgs(args: Array<string | number>, b: TelemetryBatch): void {
    const nodeFields: Array<string | number> = [
      "id",
      b.nodeId,
      "lastTelemetryAt",
      b.sentAt,
      "cpuCores",
      b.node.cpuCores,
      "cpuPct",
      b.node.cpuPct,
      "memTotalBytes",
      b.node.memTotalBytes,
      "memUsedBytes",
      b.node.memUsedBytes,
      "containers",
      b.containers.length,
      ...(b.node.address ? ["address", b.node.address] : []),
    ];
    // History points that surely cover one planning interval (twice its samples, within the history kept).
    // The closing happens up to half an interval into the next one, so those points still hold the finished interval.
    const window = Math.min(this.historyLength, 2 * Math.ceil(this.plan.intervalMs / b.intervalMs) + 2);
    const spread = Math.min(this.plan.closeSpreadMs ?? this.plan.intervalMs / 2, this.plan.intervalMs / 2);
    args.push(
      b.nodeId,
      b.sentAt,
      b.intervalMs,
      b.seq % EXPIRE_EVERY === 0 ? 1 : 0,
      b.seq % TRIM_EVERY === 0 ? 1 : 0,
      window,
      closeDelayMs(b.nodeId, spread),
      `[${b.sentAt},${b.node.cpuPct},${b.node.memUsedBytes}]`,
      nodeFields.length / 2,
      ...nodeFields,
      b.containers.length,
    );
    // A record is the sample plus nodeId and updatedAt: appended to the sample's JSON rather than spread into a new object
    // (the same text, a quarter of the time: ~20 instead of ~75 µs a batch of 20, bench:scale's profile).
    const tail = `,"nodeId":${JSON.stringify(b.nodeId)},"updatedAt":${JSON.stringify(b.sentAt)}}`;
    for (const c of b.containers) {
      const sample = JSON.stringify(c);
      args.push(
        c.id,
        c.name,
        c.state === "running" ? 1 : 0,
        sample.length > 2 ? `${sample.slice(0, -1)}${tail}` : `{${tail.slice(1)}`,
        `[${b.sentAt},${c.cpuPct},${c.memBytes},${c.blkReadBps},${c.blkWriteBps},${c.netRxBps},${c.netTxBps}]`,
      );
    }
  }

  /**
   * The planning series of each id (finished intervals, oldest first; [] when none): one MGET per
   * {@link SERIES_CHUNK} ids. At 20,000 containers this is 20,000 short strings instead of 12 million history points.
   */
  async cpuPlanSeries(ids: readonly string[]): Promise<Map<string, PlanPoint[]>> {
    const out = new Map<string, PlanPoint[]>();
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += SERIES_CHUNK) chunks.push(ids.slice(i, i + SERIES_CHUNK));
    // All chunks at once: one wait for Redis instead of one per chunk.
    const replies = await Promise.all(chunks.map((chunk) => this.reader.mget(chunk.map((id) => this.k("container", id, "cpu-plan")))));
    // Parsed a chunk at a time with a turn of the event loop in between: at 20,000 series of 60 points one pass held the
    // loop (and the batches this replica had been delivered) for ~0.2 s.
    for (const [c, chunk] of chunks.entries()) {
      if (c > 0) await yieldToLoop();
      chunk.forEach((id, k) => out.set(id, parsePlan(replies[c]![k] ?? null, this.plan.intervalMs)));
    }
    return out;
  }

  /**
   * The interval in progress on each of these nodes: container id → its mean so far (t = the interval's start). One script per
   * {@link CURRENT_NODES_CHUNK} nodes; `at` (now) tells it how many of the newest points can belong to that interval.
   */
  async cpuPlanCurrent(nodeIds: readonly string[], at = Date.now()): Promise<Map<string, PlanPoint>> {
    const out = new Map<string, PlanPoint>();
    const chunks: string[][] = [];
    for (let i = 0; i < nodeIds.length; i += CURRENT_NODES_CHUNK) chunks.push(nodeIds.slice(i, i + CURRENT_NODES_CHUNK));
    const replies = await Promise.all(chunks.map((c) => runScript(this.reader, PLAN_CURRENT_LUA, [this.prefix, this.plan.intervalMs, at, ...c])));
    for (const reply of replies) {
      if (!Array.isArray(reply)) continue;
      for (let k = 0; k + 2 < reply.length; k += 3) {
        const [id, t, cpuPct] = [String(reply[k]), Number(reply[k + 1]), Number(reply[k + 2])];
        if (Number.isFinite(t) && Number.isFinite(cpuPct)) out.set(id, { t, cpuPct });
      }
    }
    return out;
  }

  /** The planning interval this store's series are kept at. */
  get planIntervalMs(): number {
    return this.plan.intervalMs;
  }

  async recordHeartbeat(hb: Heartbeat): Promise<void> {
    await this.redis
      .multi()
      .sadd(this.k("nodes"), hb.nodeId)
      .hset(this.k("node", hb.nodeId), {
        id: hb.nodeId,
        lastHeartbeatAt: hb.sentAt,
        startedAt: hb.startedAt,
        agentVersion: hb.agentVersion,
        ...(hb.address ? { address: hb.address } : {}),
        ...(hb.capacity ? { capacityCpus: hb.capacity.cpus, capacityMemoryBytes: hb.capacity.memoryBytes } : {}),
        ...(hb.memoryPreCopy ? { memoryPreCopy: hb.memoryPreCopy.available ? "1" : "0", memoryPreCopyDetail: hb.memoryPreCopy.detail } : {}),
        ...(hb.postCopy ? { postCopy: hb.postCopy.available ? "1" : "0", postCopyDetail: hb.postCopy.detail } : {}),
      })
      .exec();
  }

  async listNodes(): Promise<NodeRecord[]> {
    const ids = (await this.reader.smembers(this.k("nodes"))).sort();
    const nodes = await Promise.all(ids.map((id) => this.getNode(id, this.reader)));
    return nodes.filter((n): n is NodeRecord => n !== undefined);
  }

  async getNode(id: string, via: Redis = this.redis): Promise<NodeRecord | undefined> {
    const h = await via.hgetall(this.k("node", id));
    if (!h.id) return undefined;
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    return {
      id,
      address: h.address,
      agentVersion: h.agentVersion,
      startedAt: num(h.startedAt),
      lastHeartbeatAt: num(h.lastHeartbeatAt),
      lastTelemetryAt: num(h.lastTelemetryAt),
      cpuCores: num(h.cpuCores),
      cpuPct: num(h.cpuPct),
      memTotalBytes: num(h.memTotalBytes),
      memUsedBytes: num(h.memUsedBytes),
      capacityCpus: num(h.capacityCpus),
      capacityMemoryBytes: num(h.capacityMemoryBytes),
      ...(h.memoryPreCopy !== undefined ? { memoryPreCopy: { available: h.memoryPreCopy === "1", detail: h.memoryPreCopyDetail ?? "" } } : {}),
      ...(h.postCopy !== undefined ? { postCopy: { available: h.postCopy === "1", detail: h.postCopyDetail ?? "" } } : {}),
      containers: num(h.containers) ?? 0,
    };
  }

  async listContainers(): Promise<ContainerRecord[]> {
    const nodeIds = await this.reader.smembers(this.k("nodes"));
    const ids = (await Promise.all(nodeIds.map((n) => this.reader.smembers(this.k("node", n, "containers"))))).flat();
    if (ids.length === 0) return [];
    // 2,000 records per MGET, parsed a chunk at a time with a turn of the event loop in between: at 20,000 containers one
    // MGET (8.5 MB) and one parse held Redis and the control's event loop for ~0.1 s each, and every API call and ingest
    // write behind them waited (bench:scale's listing p99). Sorted by code point (compareKeys), not localeCompare (ICU: ~0.1 s at 20,000).
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += LIST_CHUNK) chunks.push(ids.slice(i, i + LIST_CHUNK));
    const replies = await Promise.all(chunks.map((chunk) => this.reader.mget(chunk.map((id) => this.k("container", id)))));
    const out: ContainerRecord[] = [];
    for (const [c, raw] of replies.entries()) {
      if (c > 0) await yieldToLoop();
      for (const r of raw) if (r !== null) out.push(JSON.parse(r) as ContainerRecord);
    }
    return out.sort(compareKeys);
  }

  async findContainer(ref: string): Promise<ContainerRecord | undefined> {
    const byName = await this.redis.hget(this.k("names"), ref);
    for (const id of byName ? [byName, ref] : [ref]) {
      const raw = await this.redis.get(this.k("container", id));
      if (raw) return JSON.parse(raw) as ContainerRecord;
    }
    if (ref.length >= 4 && /^[0-9a-f]+$/.test(ref)) {
      const matches = (await this.listContainers()).filter((c) => c.id.startsWith(ref));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  async containerHistory(id: string, limit: number): Promise<MetricPoint[]> {
    const raw = await this.reader.lrange(this.k("container", id, "history"), -Math.min(limit, this.historyLength), -1);
    return raw.map((r) => {
      const [t, cpuPct, memBytes, blkReadBps, blkWriteBps, netRxBps, netTxBps] = JSON.parse(r) as number[];
      return { t: t!, cpuPct: cpuPct!, memBytes: memBytes!, blkReadBps: blkReadBps!, blkWriteBps: blkWriteBps!, netRxBps: netRxBps!, netTxBps: netTxBps! };
    });
  }

  async nodeHistory(id: string, limit: number): Promise<NodeMetricPoint[]> {
    const raw = await this.reader.lrange(this.k("node", id, "history"), -Math.min(limit, this.historyLength), -1);
    return raw.map((r) => {
      const [t, cpuPct, memUsedBytes] = JSON.parse(r) as number[];
      return { t: t!, cpuPct: cpuPct!, memUsedBytes: memUsedBytes! };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...new Set([this.redis, this.reader])].map((r) => r.quit().catch(() => undefined)));
  }
}

/**
 * A stored planning series → points (PLAN_SERIES_LUA in record-telemetry-script.ts): "b;v,v,…" (value k is interval b + k,
 * starting at (b + k) × intervalMs; an empty value is an interval without samples, skipped), or the older "t:v,t:v,…".
 * A malformed value or pair is skipped.
 */
export function parsePlan(raw: string | null, intervalMs: number): PlanPoint[] {
  if (!raw) return [];
  const out: PlanPoint[] = [];
  const head = raw.indexOf(";");
  if (head > 0) {
    const b0 = Number(raw.slice(0, head));
    if (!Number.isInteger(b0)) return [];
    const values = raw.slice(head + 1).split(",");
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      const cpuPct = Number(v);
      if (v !== "" && Number.isFinite(cpuPct)) out.push({ t: (b0 + k) * intervalMs, cpuPct });
    }
    return out;
  }
  for (const pair of raw.split(",")) {
    const at = pair.indexOf(":");
    const t = Number(pair.slice(0, at));
    const cpuPct = Number(pair.slice(at + 1));
    if (at > 0 && Number.isFinite(t) && Number.isFinite(cpuPct)) out.push({ t, cpuPct });
  }
  return out;
}
