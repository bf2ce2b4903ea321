import type { Redis } from "ioredis";
import type { Heartbeat, TelemetryBatch } from "../../../../shared/src/contracts/index.js";
import type { ContainerRecord, MetricPoint, NodeMetricPoint, NodeRecord, StateStore } from "./state-store.js";

/** Redis layout (all keys under `prefix`, default "herd:"):
 *  nodes (set) · node:<id> (hash) · node:<id>:history (list) · node:<id>:containers (set)
 *  container:<id> (string, JSON) · container:<id>:history (list of compact arrays) · names (hash name→id)
 */
/** A container history's one-day expiry is refreshed every this many batches (and when it appears). */
const EXPIRE_EVERY = 100;

export class RedisStateStore implements StateStore {
  constructor(
    private readonly redis: Redis,
    private readonly historyLength = 600,
    private readonly prefix = "herd:",
  ) {}

  private k(...parts: string[]): string {
    return this.prefix + parts.join(":");
  }

  /**
   * One batch in two round trips: a pipelined read (the node's container set and the current
   * owner of each name), then one MULTI. Only what changed is written besides the samples: set
   * members and name owners are written when new or moved, and a history's expiry is refreshed
   * when the container appears and then every {@link EXPIRE_EVERY} batches (bench:scale shows
   * the before/after at 1,000 nodes × 20 containers).
   */
  async recordTelemetry(b: TelemetryBatch): Promise<void> {
    const names = b.containers.map((c) => c.name);
    const read = this.redis.pipeline().smembers(this.k("node", b.nodeId, "containers"));
    if (names.length > 0) read.hmget(this.k("names"), ...names);
    const res = (await read.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const previous = new Set((res[0]?.[1] as string[] | undefined) ?? []);
    const ownerIds = (res[1]?.[1] as Array<string | null> | undefined) ?? [];
    // A name owned by another container needs that container's record to decide (rare: a migration, a re-created container).
    const foreign: Array<readonly [string, string]> = [];
    b.containers.forEach((c, i) => {
      const owner = ownerIds[i];
      if (owner && owner !== c.id) foreign.push([c.name, owner]);
    });
    const owners = await this.ownersOf(foreign);
    const current = new Set(b.containers.map((c) => c.id));
    const refreshExpiry = b.seq % EXPIRE_EVERY === 0;
    const tx = this.redis.multi();
    tx.sadd(this.k("nodes"), b.nodeId);
    tx.hset(this.k("node", b.nodeId), {
      id: b.nodeId,
      lastTelemetryAt: b.sentAt,
      cpuCores: b.node.cpuCores,
      cpuPct: b.node.cpuPct,
      memTotalBytes: b.node.memTotalBytes,
      memUsedBytes: b.node.memUsedBytes,
      containers: b.containers.length,
      ...(b.node.address ? { address: b.node.address } : {}),
    });
    tx.rpush(this.k("node", b.nodeId, "history"), JSON.stringify([b.sentAt, b.node.cpuPct, b.node.memUsedBytes]));
    tx.ltrim(this.k("node", b.nodeId, "history"), -this.historyLength, -1);
    for (const id of previous) {
      if (current.has(id)) continue;
      tx.srem(this.k("node", b.nodeId, "containers"), id);
      tx.del(this.k("container", id));
    }
    b.containers.forEach((c, i) => {
      const record: ContainerRecord = { ...c, nodeId: b.nodeId, updatedAt: b.sentAt };
      const isNew = !previous.has(c.id);
      if (isNew) tx.sadd(this.k("node", b.nodeId, "containers"), c.id);
      tx.set(this.k("container", c.id), JSON.stringify(record));
      // A name follows the running container carrying it, the freshest if several: a migration's
      // created-not-started destination copy or its source's late batch must not take it.
      const ownerId = ownerIds[i] ?? null;
      if (ownerId !== c.id) {
        const owner = ownerId === null ? undefined : owners.get(c.name);
        const running = c.state === "running";
        if (!owner || (running && !owner.running) || (running === owner.running && owner.updatedAt <= b.sentAt)) {
          tx.hset(this.k("names"), c.name, c.id);
        }
      }
      const hist = this.k("container", c.id, "history");
      tx.rpush(hist, JSON.stringify([b.sentAt, c.cpuPct, c.memBytes, c.blkReadBps, c.blkWriteBps, c.netRxBps, c.netTxBps]));
      tx.ltrim(hist, -this.historyLength, -1);
      // A container that vanished with its node keeps its history for a day, then it goes.
      if (isNew || refreshExpiry) tx.expire(hist, 86_400);
    });
    await tx.exec();
  }

  /** For each (name, owner id): when that owner was last seen and whether it runs (a vanished owner is left out). */
  private async ownersOf(pairs: ReadonlyArray<readonly [string, string]>): Promise<Map<string, { id: string; updatedAt: number; running: boolean }>> {
    const out = new Map<string, { id: string; updatedAt: number; running: boolean }>();
    if (pairs.length === 0) return out;
    const raw = await this.redis.mget(pairs.map(([, id]) => this.k("container", id)));
    pairs.forEach(([name, id], i) => {
      const r = raw[i];
      if (!r) return;
      const rec = JSON.parse(r) as ContainerRecord;
      out.set(name, { id, updatedAt: rec.updatedAt, running: rec.state === "running" });
    });
    return out;
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
      })
      .exec();
  }

  async listNodes(): Promise<NodeRecord[]> {
    const ids = (await this.redis.smembers(this.k("nodes"))).sort();
    const nodes = await Promise.all(ids.map((id) => this.getNode(id)));
    return nodes.filter((n): n is NodeRecord => n !== undefined);
  }

  async getNode(id: string): Promise<NodeRecord | undefined> {
    const h = await this.redis.hgetall(this.k("node", id));
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
      containers: num(h.containers) ?? 0,
    };
  }

  async listContainers(): Promise<ContainerRecord[]> {
    const nodeIds = await this.redis.smembers(this.k("nodes"));
    const ids = (await Promise.all(nodeIds.map((n) => this.redis.smembers(this.k("node", n, "containers"))))).flat();
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => this.k("container", id)));
    return raw
      .filter((r): r is string => r !== null)
      .map((r) => JSON.parse(r) as ContainerRecord)
      .sort((a, b) => a.nodeId.localeCompare(b.nodeId) || a.name.localeCompare(b.name));
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
    const raw = await this.redis.lrange(this.k("container", id, "history"), -limit, -1);
    return raw.map((r) => {
      const [t, cpuPct, memBytes, blkReadBps, blkWriteBps, netRxBps, netTxBps] = JSON.parse(r) as number[];
      return { t: t!, cpuPct: cpuPct!, memBytes: memBytes!, blkReadBps: blkReadBps!, blkWriteBps: blkWriteBps!, netRxBps: netRxBps!, netTxBps: netTxBps! };
    });
  }

  async nodeHistory(id: string, limit: number): Promise<NodeMetricPoint[]> {
    const raw = await this.redis.lrange(this.k("node", id, "history"), -limit, -1);
    return raw.map((r) => {
      const [t, cpuPct, memUsedBytes] = JSON.parse(r) as number[];
      return { t: t!, cpuPct: cpuPct!, memUsedBytes: memUsedBytes! };
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
