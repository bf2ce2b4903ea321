// Control's cluster-network address claims against the real Redis: atomic under concurrency,
// idempotent per container, never one address for two containers.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { AddressSweeper } from "../../services/control/src/network/address-sweeper.js";
import { RedisAddressClaims } from "../../services/control/src/network/redis-address-claims.js";
import { createLogger } from "../../shared/src/logger.js";
import { ConflictError } from "../../shared/src/errors.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";

const prefix = `herd-test-${randomBytes(4).toString("hex")}:`;
let redis: Redis;

before(() => {
  redis = new Redis(hostRedisUrl());
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe("RedisAddressClaims", () => {
  it("gives 20 concurrent containers 20 different addresses, and the same one again on a repeat", async () => {
    const claims = new RedisAddressClaims(redis, { first: "10.77.0.130", last: "10.77.0.160" }, `${prefix}a:`);
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const got = await Promise.all(names.map((n) => claims.claim(n)));
    assert.equal(new Set(got).size, 20);
    assert.ok(got.every((ip) => /^10\.77\.0\.1[3-6]\d$/.test(ip)));
    assert.deepEqual(await Promise.all(names.map((n) => claims.claim(n))), got, "a repeated claim answers the held address");
    const listed = await claims.list();
    assert.deepEqual(listed.map((c) => c.address).sort(), [...got].sort());
  });

  it("refuses a taken address and an exhausted range; a release frees the address", async () => {
    const claims = new RedisAddressClaims(redis, { first: "10.77.0.200", last: "10.77.0.201" }, `${prefix}b:`);
    assert.equal(await claims.claim("web", "10.77.0.201"), "10.77.0.201");
    await assert.rejects(claims.claim("db", "10.77.0.201"), ConflictError);
    await assert.rejects(claims.claim("web", "10.77.0.200"), ConflictError, "web already holds another address");
    assert.equal(await claims.claim("db"), "10.77.0.200");
    await assert.rejects(claims.claim("cache"), /no free address/);
    await claims.release("web");
    await claims.release("web"); // no-op
    assert.equal(await claims.claim("cache"), "10.77.0.201");
  });
});

describe("AddressSweeper on the real claims", () => {
  it("frees the address of a container no node reports after the grace, and only that one", async () => {
    const claims = new RedisAddressClaims(redis, { first: "10.77.0.210", last: "10.77.0.215" }, `${prefix}s:`, () => 0);
    const kept = await claims.claim("web");
    const orphan = await claims.claim("gone");
    const movingAddress = await claims.claim("moving");
    let now = 1_000_000;
    let leader = true;
    const sweeper = new AddressSweeper({
      claims,
      state: { listContainers: () => Promise.resolve([{ name: "web" }]) },
      migrations: { lockHolder: (name: string) => Promise.resolve(name === "moving" ? "m-1" : undefined) },
      log: createLogger({ level: "error" }),
      mayRun: () => leader,
      graceMs: 60_000,
      now: () => now,
    });
    assert.deepEqual(await sweeper.sweepOnce(), [], "first seen missing");
    now += 59_999;
    assert.deepEqual(await sweeper.sweepOnce(), []);
    leader = false;
    now += 1;
    assert.deepEqual(await sweeper.sweepOnce(), [], "a follower does not sweep");
    leader = true;
    assert.deepEqual(await sweeper.sweepOnce(), [orphan]);
    assert.deepEqual((await claims.list()).map((c) => c.address).sort(), [kept, movingAddress].sort());
  });
});
