// RedisStateStore against a real Redis (127.0.0.1:6379 or HERD_REDIS_URL), under a random prefix.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { RedisStateStore } from "../../services/control/src/state/redis-state-store.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";
import { ZERO_CONTAINER_USAGE, type ContainerSample, type TelemetryBatch } from "../../shared/src/contracts/index.js";

const prefix = `herd-test-${randomBytes(4).toString("hex")}:`;
let redis: Redis;
let store: RedisStateStore;

const sample = (id: string, name: string, cpuPct = 1, state: ContainerSample["state"] = "running"): ContainerSample => ({
  id: id.padEnd(64, "0"),
  name,
  image: "img",
  state,
  labels: {},
  ...ZERO_CONTAINER_USAGE,
  cpuPct,
  memLimitBytes: null,
  memBytes: 1,
  pids: 1,
});
const batch = (nodeId: string, sentAt: number, containers: ContainerSample[]): TelemetryBatch => ({
  v: 1,
  kind: "telemetry",
  nodeId,
  seq: sentAt,
  sentAt,
  intervalMs: 1000,
  node: { cpuCores: 2, cpuPct: 1, memTotalBytes: 100, memUsedBytes: 1 },
  containers,
});

before(() => {
  redis = new Redis(hostRedisUrl());
  store = new RedisStateStore(redis, 5, prefix);
});
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await store.close();
});

test("histories keep the newest points; a node's list is replaced by each batch", async () => {
  for (let t = 1; t <= 8; t++) await store.recordTelemetry(batch("n1", 1000 * t, [sample("aa", "web", t)]));
  const h = await store.containerHistory("aa".padEnd(64, "0"), 100);
  assert.deepEqual(
    h.map((p) => p.cpuPct),
    [4, 5, 6, 7, 8],
  );
  await store.recordTelemetry(batch("n1", 9000, [sample("bb", "db")]));
  assert.deepEqual(
    (await store.listContainers()).map((c) => c.name),
    ["db"],
  );
  assert.equal((await store.findContainer("bb00"))?.name, "db", "unique id prefix");
});

test("a name follows the freshest running container: neither a created copy nor a late batch from the source takes it", async () => {
  await store.recordTelemetry(batch("n1", 20_000, [sample("cc", "counter")]));
  // The destination's prepared copy exists but does not run yet.
  await store.recordTelemetry(batch("n2", 20_500, [sample("dd", "counter", 0, "created")]));
  assert.equal((await store.findContainer("counter"))?.nodeId, "n1");
  // The container moved: the destination reports the new copy…
  await store.recordTelemetry(batch("n2", 21_000, [sample("dd", "counter")]));
  // …and a batch the source sampled before the commit arrives late.
  await store.recordTelemetry(batch("n1", 20_900, [sample("cc", "counter")]));
  assert.equal((await store.findContainer("counter"))?.nodeId, "n2");
  // Once the source stops reporting it, the old copy is gone from the list too.
  await store.recordTelemetry(batch("n1", 22_000, []));
  assert.deepEqual(
    (await store.listContainers()).filter((c) => c.name === "counter").map((c) => c.nodeId),
    ["n2"],
  );
});
