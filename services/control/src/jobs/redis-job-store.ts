import type { Redis } from "ioredis";
import { z } from "zod";
import { JobPolicy, JobRecord, type JobState } from "../../../../shared/src/contracts/jobs.js";
import { ExternalError } from "../../../../shared/src/errors.js";
import type { JobStore, JobTransition, Reservation, SchedulerSettings } from "./job-store.js";

const ReservationSchema = z.object({ container: z.string(), jobId: z.string(), nodeId: z.string(), cpus: z.number(), memoryBytes: z.number() });

// Compare-and-set on the job's state, then every side effect, in one atomic step.
// KEYS: job, queue, active, reservations. ARGV: allowed states (comma list), new JSON, id,
// dequeue ("1"/""), active ("add"/"remove"/""), n reservations to set, then n (field, value)
// pairs, then the reservation fields to delete.
const TRANSITION = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local st = cjson.decode(cur)['state']
local ok = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == st then ok = true end end
if not ok then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] == '1' then redis.call('ZREM', KEYS[2], ARGV[3]) end
if ARGV[5] == 'add' then redis.call('SADD', KEYS[3], ARGV[3]) elseif ARGV[5] == 'remove' then redis.call('SREM', KEYS[3], ARGV[3]) end
local n = tonumber(ARGV[6])
local i = 7
for _ = 1, n do redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1]); i = i + 2 end
while i <= #ARGV do redis.call('HDEL', KEYS[4], ARGV[i]); i = i + 1 end
return 1
`;

/** A job's sequence number (ids are j-<n>, n from one counter): submission order, even within a millisecond. */
const seqOf = (j: JobRecord) => Number(j.id.slice(2));
/** Queue score: priority first (higher = smaller score), then submission order. Exact in a double up to 10¹³ jobs. */
const queueScore = (j: JobRecord) => (100 - j.priority) * 1e13 + seqOf(j);

/**
 * Redis layout (prefix "herd:"): jobs:seq (counter) · job:<id> (JSON) · jobs (zset by sequence,
 * the listing) · jobs:queue (zset, waiting) · jobs:active (set) · jobs:reservations (hash
 * container → JSON) · jobs:settings (hash). Records are read back through their schema.
 */
export class RedisJobStore implements JobStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "herd:",
  ) {}

  private k(...parts: string[]): string {
    return this.prefix + parts.join(":");
  }

  private parse(raw: string | null): JobRecord | undefined {
    if (raw === null) return undefined;
    const r = JobRecord.safeParse(JSON.parse(raw));
    if (!r.success) throw new ExternalError(`stored job record is malformed: ${r.error.issues[0]?.message ?? "invalid"}`, { retryable: false });
    return r.data;
  }

  private async many(ids: readonly string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => this.k("job", id)));
    return raw.map((r) => this.parse(r)).filter((j): j is JobRecord => j !== undefined);
  }

  async nextId(): Promise<string> {
    return `j-${await this.redis.incr(this.k("jobs", "seq"))}`;
  }

  async enqueue(job: JobRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.k("job", job.id), JSON.stringify(job))
      .zadd(this.k("jobs"), seqOf(job), job.id)
      .zadd(this.k("jobs", "queue"), queueScore(job), job.id)
      .exec();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return this.parse(await this.redis.get(this.k("job", id)));
  }

  async list(limit: number, state?: JobState): Promise<JobRecord[]> {
    if (!state) return this.many(await this.redis.zrevrange(this.k("jobs"), 0, limit - 1));
    // Filtered listings page through the index so a rare state is still found.
    const out: JobRecord[] = [];
    const page = 2000;
    for (let start = 0; out.length < limit; start += page) {
      const ids = await this.redis.zrevrange(this.k("jobs"), start, start + page - 1);
      if (ids.length === 0) break;
      for (const j of await this.many(ids)) if (j.state === state && out.length < limit) out.push(j);
    }
    return out;
  }

  async queued(limit: number): Promise<JobRecord[]> {
    return this.many(await this.redis.zrange(this.k("jobs", "queue"), "0", String(limit - 1)));
  }

  async queueLength(): Promise<number> {
    return this.redis.zcard(this.k("jobs", "queue"));
  }

  async active(): Promise<JobRecord[]> {
    return this.many((await this.redis.smembers(this.k("jobs", "active"))).sort());
  }

  async transition(t: JobTransition): Promise<boolean> {
    const reserve = t.reserve ?? [];
    const args = [
      t.from.join(","),
      JSON.stringify(t.job),
      t.job.id,
      t.dequeue ? "1" : "",
      t.active ?? "",
      String(reserve.length),
      ...reserve.flatMap((r) => [r.container, JSON.stringify(r)]),
      ...(t.release ?? []),
    ];
    const keys = [this.k("job", t.job.id), this.k("jobs", "queue"), this.k("jobs", "active"), this.k("jobs", "reservations")];
    return (await this.redis.eval(TRANSITION, keys.length, ...keys, ...args)) === 1;
  }

  async remove(id: string): Promise<boolean> {
    const [[, n] = []] =
      (await this.redis.multi().del(this.k("job", id)).zrem(this.k("jobs"), id).zrem(this.k("jobs", "queue"), id).srem(this.k("jobs", "active"), id).exec()) ??
      [];
    return n === 1;
  }

  async reservations(): Promise<Reservation[]> {
    const h = await this.redis.hgetall(this.k("jobs", "reservations"));
    return Object.values(h).flatMap((v) => {
      const r = ReservationSchema.safeParse(JSON.parse(v));
      return r.success ? [r.data] : [];
    });
  }

  async moveReservation(container: string, nodeId: string): Promise<void> {
    const raw = await this.redis.hget(this.k("jobs", "reservations"), container);
    if (!raw) return;
    const r = ReservationSchema.parse(JSON.parse(raw));
    if (r.nodeId === nodeId) return;
    await this.redis.hset(this.k("jobs", "reservations"), container, JSON.stringify({ ...r, nodeId }));
  }

  async settings(defaults: SchedulerSettings): Promise<SchedulerSettings> {
    const h = await this.redis.hgetall(this.k("jobs", "settings"));
    const policy = JobPolicy.safeParse(h.policy);
    return { policy: policy.success ? policy.data : defaults.policy, paused: h.paused === undefined ? defaults.paused : h.paused === "true" };
  }

  async saveSettings(s: SchedulerSettings): Promise<void> {
    await this.redis.hset(this.k("jobs", "settings"), { policy: s.policy, paused: String(s.paused) });
  }
}
