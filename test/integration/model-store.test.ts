// The ModelStore contract against a real Redis (127.0.0.1:6379 unless HERD_REDIS_URL says
// otherwise; the bootstrap starts redis-server). A random key prefix per run keeps parallel runs
// apart, and everything under it is deleted afterwards.
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisModelStore } from "../../services/control/src/forecast/redis-model-store.js";
import { modelStoreContract } from "../../services/control/src/forecast/model-store.contract.js";
import { EwmaForecaster } from "../../services/control/src/forecast/baselines.js";
import { ValidationError } from "../../shared/src/errors.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";

// As Herd's ACL user (bootstrap's password file) unless HERD_REDIS_URL names credentials.
const url = hostRedisUrl();
const prefix = `herd-test:${randomBytes(6).toString("hex")}:model:`;

async function purge(redis: Redis, pattern: string): Promise<void> {
  const keys = await redis.keys(pattern);
  if (keys.length) await redis.del(...keys);
}

modelStoreContract(
  "redis",
  async () => new RedisModelStore(new Redis(url, { maxRetriesPerRequest: 2 }), { prefix, ownsClient: true }),
  async () => {
    const redis = new Redis(url);
    await purge(redis, `${prefix}*`);
    await redis.quit();
  },
);

test("redis store: keys live under the prefix, TTL applies, a corrupt value is a ValidationError", async () => {
  const redis = new Redis(url);
  const p = `herd-test:${randomBytes(6).toString("hex")}:`;
  const store = new RedisModelStore(redis, { prefix: p, ttlSeconds: 60 });
  try {
    await store.save("c9", new EwmaForecaster(0.8));
    assert.deepEqual(await redis.keys(`${p}*`), [`${p}c9`]);
    const ttl = await redis.ttl(`${p}c9`);
    assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
    const fc = (await store.load("c9"))?.predict([10, 0], 1);
    assert.ok(fc && Math.abs(fc[0]! - 2) < 1e-12, `alpha 0.8 restored: ${fc}`);
    await redis.set(`${p}bad`, "{not json");
    await assert.rejects(store.load("bad"), ValidationError);
  } finally {
    await purge(redis, `${p}*`);
    await store.close();
    await redis.quit();
  }
});
