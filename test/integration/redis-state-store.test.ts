// RedisStateStore against a real Redis (127.0.0.1:6379 or HERD_REDIS_URL), under a random prefix.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { closeDelayMs, RedisStateStore } from "../../services/control/src/state/redis-state-store.js";
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

test("the planning series: one mean per finished interval, the interval in progress, the newest points only", async () => {
  const p = `${prefix}plan:`;
  // Every node closes an interval at its first batch of the next (the staggered close has its own test below).
  const s = new RedisStateStore(redis, 50, p, { intervalMs: 10_000, points: 3, closeSpreadMs: 0 });
  const id = "cc".padEnd(64, "0");
  // Intervals [0,10s), [10s,20s), …: samples at 1 s steps, CPU = the interval's number × 10 + 0..9.
  for (let t = 0; t < 45_000; t += 1000) await s.recordTelemetry(batch("pn", t, [sample("cc", "planned", Math.floor(t / 10_000) * 10 + (t % 10_000) / 1000)]));
  const series = (await s.cpuPlanSeries([id, "missing"])).get(id)!;
  assert.deepEqual(series, [
    { t: 10_000, cpuPct: 14.5 },
    { t: 20_000, cpuPct: 24.5 },
    { t: 30_000, cpuPct: 34.5 },
  ]);
  assert.deepEqual((await s.cpuPlanSeries(["missing"])).get("missing"), []);
  assert.deepEqual((await s.cpuPlanCurrent(["pn", "nobody"])).get(id), { t: 40_000, cpuPct: 42 });
  // At 44.5 s only the newest 6 points are read (4.5 s of the interval, plus 2): the same mean.
  assert.deepEqual((await s.cpuPlanCurrent(["pn"], 44_500)).get(id), { t: 40_000, cpuPct: 42 });
  // A late batch from a closed interval does not reopen it; a container that leaves the node leaves the interval in progress.
  await s.recordTelemetry(batch("pn", 15_000, [sample("cc", "planned", 99)]));
  assert.deepEqual((await s.cpuPlanCurrent(["pn"])).get(id), { t: 40_000, cpuPct: 42 });
  await s.recordTelemetry(batch("pn", 46_000, []));
  assert.equal((await s.cpuPlanCurrent(["pn"])).size, 0);
  assert.equal((await s.cpuPlanSeries([id])).get(id)!.length, 3, "the finished intervals stay (with the history's one-day expiry)");
});

test("each node closes a finished interval at its own offset into the next; the series come out the same", async () => {
  const p = `${prefix}stagger:`;
  const s = new RedisStateStore(redis, 50, p, { intervalMs: 10_000, points: 5 });
  // pa closes 1.754 s into an interval, pb 4.135 s (closeDelayMs with the default spread, half the interval).
  assert.deepEqual([closeDelayMs("pa", 5_000), closeDelayMs("pb", 5_000)], [1_754, 4_135]);
  const ids = { pa: "aa".padEnd(64, "0"), pb: "bb".padEnd(64, "0") };
  const cpuAt = (t: number) => Math.floor(t / 10_000) * 10 + (t % 10_000) / 1000;
  const upTo = async (from: number, to: number) => {
    for (let t = from; t <= to; t += 1000)
      for (const n of ["pa", "pb"] as const) await s.recordTelemetry(batch(n, t, [sample(n === "pa" ? "aa" : "bb", n, cpuAt(t))]));
  };
  await upTo(0, 12_000);
  // 12 s: pa is past its offset and has closed [0,10s); pb has not, and still reports it as the interval in progress, whole.
  let series = await s.cpuPlanSeries([ids.pa, ids.pb]);
  assert.deepEqual(series.get(ids.pa), [{ t: 0, cpuPct: 4.5 }]);
  assert.deepEqual(series.get(ids.pb), []);
  const current = await s.cpuPlanCurrent(["pa", "pb"]);
  assert.deepEqual(current.get(ids.pa), { t: 10_000, cpuPct: 11 });
  assert.deepEqual(current.get(ids.pb), { t: 0, cpuPct: 4.5 });
  // Read at 12 s (the points of the last 12 s, plus 2): the same.
  assert.deepEqual((await s.cpuPlanCurrent(["pb"], 12_000)).get(ids.pb), { t: 0, cpuPct: 4.5 });
  await upTo(13_000, 25_000);
  series = await s.cpuPlanSeries([ids.pa, ids.pb]);
  const expected = [
    { t: 0, cpuPct: 4.5 },
    { t: 10_000, cpuPct: 14.5 },
  ];
  assert.deepEqual(series.get(ids.pa), expected);
  assert.deepEqual(series.get(ids.pb), expected);
  // A node silent for a whole interval closes at once.
  await s.recordTelemetry(batch("pb", 40_000, [sample("bb", "pb", 40)]));
  assert.deepEqual((await s.cpuPlanSeries([ids.pb])).get(ids.pb), [...expected, { t: 20_000, cpuPct: 22.5 }]);
});

test("planning series are stored compactly, gaps kept as empty intervals, the newest points only; an older series is carried over", async () => {
  const p = `${prefix}compact:`;
  const s = new RedisStateStore(redis, 50, p, { intervalMs: 10_000, points: 4, closeSpreadMs: 0 });
  const id = "ce".padEnd(64, "0");
  const key = `${p}container:${id}:cpu-plan`;
  // Written by an older control: a time on every point.
  await redis.set(key, "0:1.000,10000:2.000");
  // Intervals 2 and 3 have samples (cpu 3 and 4), 4 and 5 none, 6 has (cpu 7); 7 is in progress and closes 6.
  for (const t of [20_000, 30_000, 60_000, 70_000]) await s.recordTelemetry(batch("cn", t, [sample("ce", "compact", t / 10_000 + 1)]));
  // Interval 0 is gone (4 points kept: 3 4 _ _ 7 → the newest four intervals 3…6).
  assert.equal(await redis.get(key), "3;4,,,7");
  assert.deepEqual((await s.cpuPlanSeries([id])).get(id), [
    { t: 30_000, cpuPct: 4 },
    { t: 60_000, cpuPct: 7 },
  ]);
  // A gap longer than the series starts it afresh.
  await s.recordTelemetry(batch("cn", 200_000, [sample("ce", "compact", 21)]));
  await s.recordTelemetry(batch("cn", 210_000, [sample("ce", "compact", 22)]));
  assert.equal(await redis.get(key), "20;21");
});

test("a batch is one atomic script: records, name owners and the node's set as before", async () => {
  const p = `${prefix}atomic:`;
  const s = new RedisStateStore(redis, 5, p);
  await s.recordTelemetry(batch("a1", 1000, [sample("d1", "svc", 1, "running"), sample("d2", "other", 1, "exited")]));
  // The destination copy of a migration, created but not started, does not take the name.
  await s.recordTelemetry(batch("a2", 2000, [sample("d3", "svc", 0, "created")]));
  assert.equal((await s.findContainer("svc"))?.id, "d1".padEnd(64, "0"));
  // Once it runs (and the source has stopped), it does.
  await s.recordTelemetry(batch("a1", 3000, [sample("d1", "svc", 1, "exited")]));
  await s.recordTelemetry(batch("a2", 4000, [sample("d3", "svc", 1, "running")]));
  assert.equal((await s.findContainer("svc"))?.nodeId, "a2");
  assert.deepEqual(
    (await s.listNodes()).map((n) => [n.id, n.containers, n.lastTelemetryAt]),
    [
      ["a1", 1, 3000],
      ["a2", 1, 4000],
    ],
  );
  assert.deepEqual((await s.listContainers()).map((c) => c.name).sort(), ["svc", "svc"]);
  assert.deepEqual(
    (await s.nodeHistory("a1", 10)).map((h) => h.t),
    [1000, 3000],
  );
});

test("bulk reads go through the reader connection, which the store closes; more than one MGET chunk is listed in order", async () => {
  const p = `${prefix}rd:`;
  const writer = new Redis(hostRedisUrl());
  const reader = writer.duplicate();
  const s = new RedisStateStore(writer, 5, p, { intervalMs: 10_000, points: 3 }, reader);
  // 2,100 containers over 3 nodes: the listing reads them in two MGETs.
  for (const n of ["n1", "n2", "n3"]) {
    await s.recordTelemetry(
      batch(
        n,
        1000,
        Array.from({ length: 700 }, (_, i) => sample(`${n}c${i}`.replace(/[^0-9a-f]/g, "a") + i.toString(16), `w${String(i).padStart(4, "0")}`)),
      ),
    );
  }
  const readerId = Number(await reader.client("ID"));
  const readsBefore = Number(/cmdstat_mget:calls=(\d+)/.exec(await writer.info("commandstats"))?.[1] ?? 0);
  const listed = await s.listContainers();
  const readerLine = String(await writer.client("LIST"))
    .split("\n")
    .find((l) => l.startsWith(`id=${readerId} `));
  assert.match(readerLine ?? "", / cmd=mget /, "the listing's last command came from the reader connection");
  assert.equal(listed.length, 2_100);
  assert.deepEqual(
    listed.map((c) => `${c.nodeId}/${c.name}`),
    listed.map((c) => `${c.nodeId}/${c.name}`).sort(),
  );
  const readsAfter = Number(/cmdstat_mget:calls=(\d+)/.exec(await writer.info("commandstats"))?.[1] ?? 0);
  assert.ok(readsAfter - readsBefore >= 2, "two MGETs or more");
  assert.equal((await s.listNodes()).length, 3);
  const keys = await writer.keys(`${p}*`);
  if (keys.length) await writer.del(...keys);
  await s.close();
  await assert.rejects(reader.ping(), /closed/i);
  await assert.rejects(writer.ping(), /closed/i);
});
