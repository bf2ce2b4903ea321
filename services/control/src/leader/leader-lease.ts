import type { Redis } from "ioredis";
import { HerdError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";

/** A write or lock operation by a replica that no longer holds (or never held) the leader lease. */
export class FencedError extends HerdError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, code: "FENCED", retryable: false });
    this.name = "FencedError";
  }
}

/** The lease value: who holds it, under which epoch (a number that only grows), since when. */
export interface LeaderInfo {
  replicaId: string;
  epoch: number;
  /** The holder's API address, shown by `GET /control/leader`. */
  apiUrl?: string;
}

/**
 * Leadership among control replicas. Contract: at most one replica believes it leads at a time
 * (up to clock drift within `renewEvery`), and every leader gets a larger epoch than every leader
 * before it. `token()` is the fencing token that leader-only writes compare in Redis; a deposed
 * leader's token no longer matches, so its writes are rejected even while it still believes it leads.
 */
export interface LeaderElection {
  readonly replicaId: string;
  isLeader(): boolean;
  /** The fencing token while leading (the exact lease value), else undefined. */
  token(): string | undefined;
  current(): Promise<LeaderInfo | undefined>;
}

export interface RedisLeaderLeaseOptions {
  redis: Redis;
  replicaId: string;
  log: Logger;
  leaseMs: number;
  apiUrl?: string;
  prefix?: string;
  /** Called once each time this replica becomes leader / stops being leader. */
  onElected?: (info: LeaderInfo) => void;
  onDeposed?: (reason: string) => void;
  now?: () => number;
}

// Takes the lease if free: a new epoch (INCR) is stamped into the value, so a later leader always
// carries a larger epoch than any earlier one. Returns the value, or false if someone holds it.
const ACQUIRE = `
if redis.call("exists", KEYS[1]) == 1 then return false end
local epoch = redis.call("incr", KEYS[2])
local value = ARGV[1] .. "|" .. epoch .. "|" .. ARGV[3]
redis.call("set", KEYS[1], value, "PX", ARGV[2])
return value`;
// Extends the lease only while it still holds this exact value (replica and epoch).
const RENEW = `
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0`;

export function parseLeaderValue(value: string | null): LeaderInfo | undefined {
  if (!value) return undefined;
  const [replicaId, epoch, apiUrl] = value.split("|");
  const n = Number(epoch);
  if (!replicaId || !Number.isSafeInteger(n)) return undefined;
  return { replicaId, epoch: n, ...(apiUrl ? { apiUrl } : {}) };
}

/**
 * A lease in one Redis key (`<prefix>leader`), renewed every third of its length. A replica that
 * cannot renew (Redis away, or someone else took it) stops leading as soon as it knows, and in any
 * case once its own lease time has run out since the last successful renewal, without waiting for
 * Redis to answer: a leader cut off from Redis steps down before another can be elected.
 */
export class RedisLeaderLease implements LeaderElection {
  readonly replicaId: string;
  private value?: string;
  private validUntil = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private ticking = false;
  private readonly now: () => number;
  private readonly key: string;
  private readonly epochKey: string;

  constructor(private readonly o: RedisLeaderLeaseOptions) {
    this.replicaId = o.replicaId;
    this.now = o.now ?? Date.now;
    const prefix = o.prefix ?? "herd:";
    this.key = `${prefix}leader`;
    this.epochKey = `${prefix}leader-epoch`;
  }

  /** The Redis key holding the lease (fenced writes compare its value). */
  get leaseKey(): string {
    return this.key;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const every = Math.max(100, Math.floor(this.o.leaseMs / 3));
    this.timer = setInterval(() => void this.tick(), every);
    void this.tick();
  }

  isLeader(): boolean {
    if (this.value === undefined) return false;
    if (this.now() >= this.validUntil) {
      this.depose("lease not renewed in time");
      return false;
    }
    return true;
  }

  token(): string | undefined {
    return this.isLeader() ? this.value : undefined;
  }

  async current(): Promise<LeaderInfo | undefined> {
    return parseLeaderValue(await this.o.redis.get(this.key));
  }

  /** One renewal or acquisition attempt; exported for tests. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    const sentAt = this.now();
    try {
      if (this.value !== undefined) {
        const renewed = await this.o.redis.eval(RENEW, 1, this.key, this.value, String(this.o.leaseMs));
        if (renewed === 1) this.validUntil = sentAt + this.o.leaseMs;
        else this.depose("the lease is held by another replica");
      } else {
        const taken = await this.o.redis.eval(ACQUIRE, 2, this.key, this.epochKey, this.replicaId, String(this.o.leaseMs), this.o.apiUrl ?? "");
        if (typeof taken === "string" && !this.stopped) {
          this.value = taken;
          this.validUntil = sentAt + this.o.leaseMs;
          const info = parseLeaderValue(taken);
          if (info) {
            this.o.log.info("Became leader", { replicaId: this.replicaId, epoch: info.epoch });
            this.o.onElected?.(info);
          }
        }
      }
    } catch (err) {
      this.o.log.warn("Leader lease: Redis call failed", { error: errorMessage(err) });
    } finally {
      this.ticking = false;
    }
    // Checked after every attempt, so a leader that cannot reach Redis steps down on time.
    this.isLeader();
  }

  private depose(reason: string): void {
    if (this.value === undefined) return;
    this.value = undefined;
    this.validUntil = 0;
    this.o.log.warn("No longer leader", { replicaId: this.replicaId, reason });
    this.o.onDeposed?.(reason);
  }

  /** Stops renewing and gives the lease up at once (so another replica need not wait for it to expire). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const value = this.value;
    this.depose("stopping");
    if (value !== undefined) await this.o.redis.eval(RELEASE, 1, this.key, value).catch(() => undefined);
  }
}
