import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MigrationStore } from "../migration/migration-store.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { StateStore } from "../state/state-store.js";
import { diffFeed, toFeedMigration, type FeedState, type HelloFrame, type Sample, type TickFrame } from "./feed-frames.js";

export interface LiveFeedOptions {
  state: StateStore;
  migrations: MigrationStore;
  downAfterMs: number;
  log: Logger;
  /** How often nodes and containers are read (telemetry arrives once a second). */
  fullEveryMs?: number;
  /** How often migrations are read while one runs (steps and bytes move fast). */
  migrationEveryMs?: number;
  containerHistoryPoints?: number;
  nodeHistoryPoints?: number;
  migrationsShown?: number;
  maxSubscribers?: number;
  now?: () => number;
}

/** Two decimals are plenty for a percentage on a chart, and keep frames small. */
const pct = (v: number) => Math.round(v * 100) / 100;

export type FeedListener = (event: "hello" | "tick", data: HelloFrame | TickFrame) => void;

/** Thrown when the stream already has as many listeners as it allows. */
export class FeedFullError extends Error {
  constructor(max: number) {
    super(`the live stream already has ${max} listeners`);
    this.name = "FeedFullError";
  }
}

/**
 * One reader of the state control already keeps (Redis, via StateStore and MigrationStore)
 * shared by every open dashboard: it polls only while someone listens, diffs successive
 * snapshots and pushes the difference to all listeners. A listener first gets a `hello` with
 * recent history, then `tick`s.
 */
export class LiveFeed {
  private readonly listeners = new Set<FeedListener>();
  private current?: FeedState;
  private timer?: NodeJS.Timeout;
  private lastFullAt = 0;
  private busy = false;
  private readonly now: () => number;

  constructor(private readonly o: LiveFeedOptions) {
    this.now = o.now ?? Date.now;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Sends the hello to `listener`, then keeps it informed until the returned function is called. */
  async subscribe(listener: FeedListener): Promise<() => void> {
    const max = this.o.maxSubscribers ?? 50;
    if (this.listeners.size >= max) throw new FeedFullError(max);
    const state = await this.read();
    const hello: HelloFrame = { ...state, history: await this.history(state) };
    listener("hello", hello);
    this.listeners.add(listener);
    this.current ??= state;
    this.ensureTimer();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.current = undefined;
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.o.migrationEveryMs ?? 250);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.busy || !this.current) return;
    this.busy = true;
    try {
      const prev = this.current;
      const t = this.now();
      const full = t - this.lastFullAt >= (this.o.fullEveryMs ?? 1000);
      const migrating = prev.migrations.some((m) => m.state === "running" || m.state === "rolling-back");
      if (!full && !migrating) return;
      const next = full ? await this.read() : { ...prev, t, migrations: await this.readMigrations() };
      if (full) this.lastFullAt = t;
      if (!this.current) return; // stopped meanwhile
      this.current = next;
      const frame = diffFeed(prev, next);
      if (!frame) return;
      for (const l of [...this.listeners]) {
        try {
          l("tick", frame);
        } catch (err) {
          this.listeners.delete(l);
          this.o.log.warn("Dropped a live-stream listener", { error: errorMessage(err) });
        }
      }
    } catch (err) {
      this.o.log.warn("Live feed read failed", { error: errorMessage(err) });
    } finally {
      this.busy = false;
    }
  }

  private async readMigrations() {
    return (await this.o.migrations.list(this.o.migrationsShown ?? 20)).map(toFeedMigration);
  }

  private async read(): Promise<FeedState> {
    const t = this.now();
    const [nodes, containers, migrations] = await Promise.all([this.o.state.listNodes(), this.o.state.listContainers(), this.readMigrations()]);
    return {
      t,
      nodes: nodes.map((n) => ({
        id: n.id,
        status: nodeStatus(n, t, this.o.downAfterMs),
        ...(n.address !== undefined ? { address: n.address } : {}),
        ...(n.cpuCores !== undefined ? { cpuCores: n.cpuCores } : {}),
        ...(n.cpuPct !== undefined ? { cpuPct: pct(n.cpuPct) } : {}),
        ...(n.memUsedBytes !== undefined ? { memUsedBytes: n.memUsedBytes } : {}),
        ...(n.memTotalBytes !== undefined ? { memTotalBytes: n.memTotalBytes } : {}),
        containers: n.containers,
        ...(n.lastTelemetryAt !== undefined ? { lastSeenAt: n.lastTelemetryAt } : {}),
      })),
      containers: containers.map((c) => ({
        id: c.id,
        name: c.name,
        nodeId: c.nodeId,
        image: c.image,
        state: c.state,
        cpuPct: pct(c.cpuPct),
        memBytes: c.memBytes,
        memLimitBytes: c.memLimitBytes,
        updatedAt: c.updatedAt,
      })),
      migrations,
    };
  }

  private async history(state: FeedState): Promise<HelloFrame["history"]> {
    const cPoints = this.o.containerHistoryPoints ?? 60;
    const nPoints = this.o.nodeHistoryPoints ?? 300;
    const [nodes, containers] = await Promise.all([
      Promise.all(
        state.nodes.map(async (n) => [n.id, (await this.o.state.nodeHistory(n.id, nPoints)).map((p): Sample => [p.t, pct(p.cpuPct), p.memUsedBytes])] as const),
      ),
      Promise.all(
        state.containers.map(
          async (c) => [c.id, (await this.o.state.containerHistory(c.id, cPoints)).map((p): Sample => [p.t, pct(p.cpuPct), p.memBytes])] as const,
        ),
      ),
    ]);
    return { nodes: Object.fromEntries(nodes), containers: Object.fromEntries(containers) };
  }
}
