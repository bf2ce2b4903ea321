// The rebalancer's snapshot from the planning series kept at ingest (above `seriesAbove` containers), against a real
// Redis (127.0.0.1:6379 or HERD_REDIS_URL) under a random prefix: finished intervals plus the one in progress, per container.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createLogger } from "../../shared/src/logger.js";
import { AmqpMessageBus } from "../../shared/src/messaging/amqp-message-bus.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";
import { ZERO_CONTAINER_USAGE, type ContainerSample } from "../../shared/src/contracts/index.js";
import { CommandClient } from "../../services/control/src/commands/command-client.js";
import { RedisModelStore } from "../../services/control/src/forecast/redis-model-store.js";
import { MigrationOrchestrator } from "../../services/control/src/migration/migration-orchestrator.js";
import { RedisMigrationStore } from "../../services/control/src/migration/migration-store.js";
import { parseMoveBudget } from "../../services/control/src/placement/move-planner.js";
import { ForecastCache } from "../../services/control/src/rebalance/forecast-cache.js";
import { Rebalancer } from "../../services/control/src/rebalance/rebalancer.js";
import { RedisStateStore } from "../../services/control/src/state/redis-state-store.js";

const prefix = `herd-test-${randomBytes(4).toString("hex")}:`;
const redis = new Redis(hostRedisUrl());
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const sample = (id: string, cpuPct: number): ContainerSample => ({
  ...ZERO_CONTAINER_USAGE,
  id: id.padEnd(64, "0"),
  name: `c-${id}`,
  image: "img",
  state: "running",
  labels: {},
  cpuPct,
  memLimitBytes: null,
  memBytes: 1,
  pids: 1,
});

test("above seriesAbove a round plans from each container's interval means plus the interval in progress, and says where its time went", async () => {
  const log = createLogger({ level: "error" });
  const state = new RedisStateStore(redis, 50, prefix, { intervalMs: 10_000, points: 6, closeSpreadMs: 0 });
  const migrations = new RedisMigrationStore(redis, prefix);
  const commands = new CommandClient(new AmqpMessageBus({ url: "amqp://127.0.0.1:1/none", logger: log }), log);
  const rebalancer = new Rebalancer({
    state,
    migrations,
    orchestrator: new MigrationOrchestrator({ state, migrations, commands, log, downAfterMs: 6000, transferPort: 8730 }),
    forecasts: new ForecastCache({ store: new RedisModelStore(redis, { prefix: `${prefix}model:` }), log, retrainMs: 60_000, horizon: 6 }),
    log,
    policy: "threshold",
    policyArgs: {},
    budget: parseMoveBudget({}),
    intervalMs: 10_000,
    sampleMs: 1000,
    downAfterMs: 6000,
    seriesAbove: 1,
    now: () => 45_000,
  });
  // Two nodes, two containers each, 1 Hz for 45 s: CPU % = the interval's number × 10 + the second within it (+ 1 on n2).
  for (let t = 0; t < 45_000; t += 1000) {
    for (const [node, ids, extra] of [
      ["n1", ["a1", "a2"], 0],
      ["n2", ["b1", "b2"], 1],
    ] as const) {
      const cpu = Math.floor(t / 10_000) * 10 + (t % 10_000) / 1000 + extra;
      await state.recordTelemetry({
        v: 1,
        kind: "telemetry",
        nodeId: node,
        seq: t / 1000,
        sentAt: t,
        intervalMs: 1000,
        node: { cpuCores: 4, cpuPct: 10, memTotalBytes: 1e9, memUsedBytes: 1e8 },
        containers: ids.map((id) => sample(id, cpu)),
      });
    }
  }
  const { snapshot, tookMs } = await rebalancer.snapshot();
  const history = (id: string) => snapshot.containers.find((c) => c.id === id.padEnd(64, "0"))?.history?.cpu;
  // Four finished intervals (means 4.5, 14.5, 24.5, 34.5 %) and the one in progress (40…44 s: 42 %), in millicores.
  assert.deepEqual(history("a1"), [45, 145, 245, 345, 420]);
  assert.deepEqual(history("b2"), [55, 155, 255, 355, 430]);
  assert.equal(snapshot.containers.length, 4);
  for (const k of ["listing", "series", "forecast"] as const) assert.ok(Number.isInteger(tookMs[k]) && tookMs[k] >= 0, `tookMs.${k}`);
  const report = await rebalancer.plan();
  assert.deepEqual(Object.keys(report.tookMs).sort(), ["decide", "forecast", "listing", "series"]);
});
