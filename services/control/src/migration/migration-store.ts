import type { Redis } from "ioredis";
import { MigrationRecord } from "../../../../shared/src/contracts/migration-api.js";
import { ExternalError } from "../../../../shared/src/errors.js";
import { FencedError } from "../leader/leader-lease.js";

/**
 * Durable migration records and the one-migration-per-container lock (keyed by container name). Contract: a saved record
 * is what `get` returns, also to a restarted control service; `lock` succeeds for exactly one
 * migration per container until that migration `unlock`s it.
 */
export interface MigrationStore {
  save(r: MigrationRecord): Promise<void>;
  get(id: string): Promise<MigrationRecord | undefined>;
  /** Newest first. */
  list(limit: number): Promise<MigrationRecord[]>;
  unfinished(): Promise<MigrationRecord[]>;
  lock(containerName: string, migrationId: string): Promise<boolean>;
  lockHolder(containerName: string): Promise<string | undefined>;
  unlock(containerName: string, migrationId: string): Promise<void>;
}

const UNLOCK_IF_HOLDER = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/**
 * Fenced variants: each first compares the leader lease (KEYS[1]) with the caller's token, in the
 * same script, so a deposed leader's write is rejected atomically (returns -1) and no write of
 * its can land after a new leader has taken over.
 */
const FENCED_SAVE = `
if redis.call("get", KEYS[1]) ~= ARGV[1] then return -1 end
redis.call("set", KEYS[2], ARGV[2])
redis.call("zadd", KEYS[3], ARGV[3], ARGV[4])
return 1`;
const FENCED_LOCK = `
if redis.call("get", KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call("set", KEYS[2], ARGV[2], "NX") then return 1 end
return 0`;
const FENCED_UNLOCK = `
if redis.call("get", KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call("get", KEYS[2]) == ARGV[2] then return redis.call("del", KEYS[2]) end
return 0`;

/** Where the leader lease lives and this replica's token for it (undefined when not leading). */
export interface Fence {
  leaseKey: string;
  token(): string | undefined;
}

export class RedisMigrationStore implements MigrationStore {
  /**
   * @param fence when given, `save`, `lock` and `unlock` succeed only while the lease holds this
   *   replica's token, else throw {@link FencedError} (the store the leader drives migrations with).
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "herd:",
    private readonly fence?: Fence,
  ) {}

  private tokenOrThrow(what: string): string {
    const token = this.fence?.token();
    if (token === undefined) throw new FencedError(`not the leader: refusing to ${what}`);
    return token;
  }

  async save(r: MigrationRecord): Promise<void> {
    if (this.fence) {
      const token = this.tokenOrThrow(`save migration ${r.id}`);
      const done = await this.redis.eval(
        FENCED_SAVE,
        3,
        this.fence.leaseKey,
        `${this.prefix}migration:${r.id}`,
        `${this.prefix}migrations`,
        token,
        JSON.stringify(r),
        String(r.createdAt),
        r.id,
      );
      if (done === -1) throw new FencedError(`lease lost: migration ${r.id} not saved`);
      return;
    }
    await this.redis.multi().set(`${this.prefix}migration:${r.id}`, JSON.stringify(r)).zadd(`${this.prefix}migrations`, r.createdAt, r.id).exec();
  }

  async get(id: string): Promise<MigrationRecord | undefined> {
    const raw = await this.redis.get(`${this.prefix}migration:${id}`);
    return raw ? readRecord(raw) : undefined;
  }

  async list(limit: number): Promise<MigrationRecord[]> {
    const ids = await this.redis.zrevrange(`${this.prefix}migrations`, 0, limit - 1);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => `${this.prefix}migration:${id}`));
    return raw.filter((r): r is string => r !== null).map(readRecord);
  }

  async unfinished(): Promise<MigrationRecord[]> {
    const all = await this.list(10_000);
    return all.filter((r) => r.state === "running" || r.state === "rolling-back");
  }

  async lock(containerId: string, migrationId: string): Promise<boolean> {
    if (this.fence) {
      const token = this.tokenOrThrow(`lock ${containerId}`);
      const done = await this.redis.eval(FENCED_LOCK, 2, this.fence.leaseKey, `${this.prefix}migration-lock:${containerId}`, token, migrationId);
      if (done === -1) throw new FencedError(`lease lost: ${containerId} not locked`);
      return done === 1;
    }
    const ok = await this.redis.set(`${this.prefix}migration-lock:${containerId}`, migrationId, "NX");
    return ok === "OK";
  }

  async lockHolder(containerId: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}migration-lock:${containerId}`)) ?? undefined;
  }

  async unlock(containerId: string, migrationId: string): Promise<void> {
    if (this.fence) {
      const token = this.tokenOrThrow(`unlock ${containerId}`);
      const done = await this.redis.eval(FENCED_UNLOCK, 2, this.fence.leaseKey, `${this.prefix}migration-lock:${containerId}`, token, migrationId);
      if (done === -1) throw new FencedError(`lease lost: ${containerId} not unlocked`);
      return;
    }
    await this.redis.eval(UNLOCK_IF_HOLDER, 1, `${this.prefix}migration-lock:${containerId}`, migrationId);
  }
}

/** Stored records are read through the same schema the API answers with. */
function readRecord(raw: string): MigrationRecord {
  const parsed = MigrationRecord.safeParse(JSON.parse(raw));
  if (!parsed.success)
    throw new ExternalError(`a stored migration record is malformed: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`, {
      retryable: false,
    });
  return parsed.data;
}

/** Records kept in memory, read back through the schema as from Redis (a copy: callers never share objects). */
export class InMemoryMigrationStore implements MigrationStore {
  private readonly records = new Map<string, string>();
  private readonly locks = new Map<string, string>();

  async save(r: MigrationRecord): Promise<void> {
    this.records.set(r.id, JSON.stringify(r));
  }

  async get(id: string): Promise<MigrationRecord | undefined> {
    const raw = this.records.get(id);
    return raw ? readRecord(raw) : undefined;
  }

  async list(limit: number): Promise<MigrationRecord[]> {
    const all = [...this.records.values()].map(readRecord);
    // Newest first; ties by id descending, as Redis orders equal scores.
    return all.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).slice(0, limit);
  }

  async unfinished(): Promise<MigrationRecord[]> {
    return (await this.list(10_000)).filter((r) => r.state === "running" || r.state === "rolling-back");
  }

  async lock(containerName: string, migrationId: string): Promise<boolean> {
    if (this.locks.has(containerName)) return false;
    this.locks.set(containerName, migrationId);
    return true;
  }

  async lockHolder(containerName: string): Promise<string | undefined> {
    return this.locks.get(containerName);
  }

  async unlock(containerName: string, migrationId: string): Promise<void> {
    if (this.locks.get(containerName) === migrationId) this.locks.delete(containerName);
  }
}
