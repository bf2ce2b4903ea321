// The leader lease and the fenced migration store against a real Redis (127.0.0.1:6379 or
// HERD_REDIS_URL, as bootstrap's ACL user), under a random prefix: one leader at a time, epochs grow, a deposed leader's
// writes and lock operations are rejected in Redis.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { FencedError, RedisLeaderLease } from "../../services/control/src/leader/leader-lease.js";
import { RedisMigrationStore } from "../../services/control/src/migration/migration-store.js";
import type { MigrationRecord } from "../../shared/src/contracts/migration-api.js";
import { createLogger } from "../../shared/src/logger.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";

const prefix = `herd-test-${randomBytes(4).toString("hex")}:`;
const log = createLogger({ level: "error" });
let redis: Redis;

before(() => {
  redis = new Redis(hostRedisUrl());
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const lease = (replicaId: string, now?: () => number) => new RedisLeaderLease({ redis, replicaId, log, leaseMs: 1_000, prefix, now });
const record = (id: string): MigrationRecord => ({
  id,
  containerId: "c".repeat(64),
  containerName: `web-${id}`,
  source: "n1",
  destination: "n2",
  state: "running",
  step: "describe",
  steps: [],
  createdAt: 1,
  updatedAt: 1,
  deadlineAt: 60_000,
  frozen: false,
  bytes: 0,
});

test("one leader at a time; a successor gets a larger epoch once the lease expires", async () => {
  const a = lease("a");
  const b = lease("b");
  await a.tick();
  await b.tick();
  assert.equal(a.isLeader(), true);
  assert.equal(b.isLeader(), false);
  const first = await a.current();
  assert.equal(first?.replicaId, "a");
  // a stops renewing (as if killed): b takes over after the lease runs out, not before.
  await new Promise((r) => setTimeout(r, 1_200));
  await b.tick();
  assert.equal(b.isLeader(), true);
  const second = await b.current();
  assert.equal(second?.replicaId, "b");
  assert.ok(second!.epoch > first!.epoch, `epoch ${second!.epoch} > ${first!.epoch}`);
  // a's next renewal finds the lease taken: it steps down.
  await a.tick();
  assert.equal(a.isLeader(), false);
  await b.stop();
  assert.equal(await b.current(), undefined, "stop() gives the lease up at once");
});

test("a leader that cannot renew steps down on its own clock", async () => {
  let t = Date.now();
  const a = lease("slow", () => t);
  await a.tick();
  assert.equal(a.isLeader(), true);
  t += 1_001;
  assert.equal(a.isLeader(), false);
  assert.equal(a.token(), undefined);
  await a.stop();
  await redis.del(`${prefix}leader`); // its lease would expire on its own within a second
});

test("a deposed leader's saves, locks and unlocks are rejected; the new leader's pass", async () => {
  let staleToken: string | undefined;
  const a = lease("old");
  await a.tick();
  staleToken = a.token();
  assert.ok(staleToken);
  const oldStore = new RedisMigrationStore(redis, prefix, { leaseKey: `${prefix}leader`, token: () => staleToken });
  await oldStore.save(record("m1"));
  assert.equal(await oldStore.lock("web-m1", "m1"), true);
  // The lease passes to "new" (a was paused past its lease); a still holds its stale token.
  await redis.del(`${prefix}leader`);
  const b = lease("new");
  await b.tick();
  const newStore = new RedisMigrationStore(redis, prefix, { leaseKey: `${prefix}leader`, token: () => b.token() });
  const changed = { ...record("m1"), step: "prepare" as const };
  await assert.rejects(oldStore.save(changed), FencedError);
  await assert.rejects(oldStore.unlock("web-m1", "m1"), FencedError);
  await assert.rejects(oldStore.lock("web-m2", "m2"), FencedError);
  assert.equal((await newStore.get("m1"))?.step, "describe", "the stale write did not land");
  assert.equal(await newStore.lockHolder("web-m1"), "m1");
  assert.equal(await newStore.lockHolder("web-m2"), undefined);
  await newStore.save(changed);
  assert.equal((await newStore.get("m1"))?.step, "prepare");
  await newStore.unlock("web-m1", "m1");
  assert.equal(await newStore.lockHolder("web-m1"), undefined);
  // Not leading at all: refused before Redis is asked.
  staleToken = undefined;
  await assert.rejects(oldStore.save(changed), FencedError);
  await b.stop();
});
