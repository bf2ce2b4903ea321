// The MigrationStore contract against a real Redis (127.0.0.1:6379 unless HERD_REDIS_URL says
// otherwise; as Herd's ACL user from bootstrap's password file unless HERD_REDIS_URL names
// credentials), under a random key prefix that is deleted afterwards.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { RedisMigrationStore } from "../../services/control/src/migration/migration-store.js";
import { migrationStoreContract } from "../../services/control/src/migration/migration-store.contract.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";

const url = hostRedisUrl();
const prefix = `herd-test:${randomBytes(6).toString("hex")}:`;
let redis: Redis | undefined;

migrationStoreContract(
  "redis",
  async () => {
    redis = new Redis(url, { maxRetriesPerRequest: 2 });
    return new RedisMigrationStore(redis, prefix);
  },
  async () => {
    if (!redis) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  },
);
