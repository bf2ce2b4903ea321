import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../../../shared/src/logger.js";
import { InMemoryModelStore } from "../forecast/model-store.js";
import { ForecastCache } from "./forecast-cache.js";
import { FORECAST_SETUP } from "../forecast/forecast-setup.js";
import { createForecaster } from "../forecast/model-codec.js";
import { fitPooledLinear } from "../forecast/global-linear-forecaster.js";

const log = createLogger({ level: "error" });

/** Deterministic mean-reverting series around `mean`. */
function ar1(n: number, mean: number, seed: number): number[] {
  let x = mean;
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
  return Array.from({ length: n }, () => (x = mean + 0.6 * (x - mean) + 20 * rnd()));
}

test("too little history: EWMA baseline, and it says so", async () => {
  const cache = new ForecastCache({ store: new InMemoryModelStore(), log, retrainMs: 60_000, horizon: 3 });
  cache.beginRound();
  const f = await cache.forecast("k", [10, 20, 30]);
  assert.equal(f.model, "ewma");
  assert.match(f.reason, /only 3 points/);
  assert.equal(f.values.length, 3);
});

test("chooses and persists a model; a new cache restores it from the store", async () => {
  const store = new InMemoryModelStore();
  const cache = new ForecastCache({ store, log, retrainMs: 60_000, horizon: 4 });
  cache.refreshPooled([1, 2, 3, 4, 5, 6].map((k) => ar1(120, 20 + 10 * k, k)));
  assert.ok(cache.pooledModel(), "pooled model fitted");
  cache.beginRound();
  const f = await cache.forecast("c1", ar1(120, 50, 9));
  assert.equal(f.values.length, 4);
  assert.ok(f.values.every((v) => Number.isFinite(v)));
  assert.deepEqual(await store.keys(), ["c1"]);
  const again = new ForecastCache({ store, log, retrainMs: 60_000, horizon: 4 });
  again.beginRound();
  const g = await again.forecast("c1", ar1(120, 50, 9));
  assert.equal(g.reason, "restored from the model store");
  assert.equal(g.model, f.model);
});

test("retrains at most trainsPerRound series per round", async () => {
  const store = new InMemoryModelStore();
  const cache = new ForecastCache({ store, log, retrainMs: 60_000, horizon: 2, trainsPerRound: 1 });
  cache.beginRound();
  await cache.forecast("a", ar1(80, 40, 1));
  const b = await cache.forecast("b", ar1(80, 40, 2));
  assert.deepEqual(await store.keys(), ["a"]);
  assert.equal(b.model, "ewma", "the series over budget forecasts with the baseline this round");
  cache.beginRound();
  await cache.forecast("b", ar1(80, 40, 2));
  assert.deepEqual((await store.keys()).sort(), ["a", "b"]);
});

test("forecasts each horizon with the model the bench's rule chose for it, from the bench's model set", async () => {
  const cache = new ForecastCache({ store: new InMemoryModelStore(), log, retrainMs: 60_000, horizon: 6 });
  const fleet = [1, 2, 3, 4, 5, 6].map((k) => ar1(200, 20 + 10 * k, k));
  cache.refreshPooled(fleet);
  const pooled = cache.pooledModel()!;
  cache.beginRound();
  const history = ar1(200, 45, 11);
  const f = await cache.forecast("c", history);
  assert.equal(f.perHorizon?.length, 6);
  for (const name of f.perHorizon!) assert.ok(FORECAST_SETUP.models.includes(name), `${name} is not in the bench's set`);
  // Each horizon's value is that horizon's model, fitted on the same (newest 240) points.
  const horizons = [1, 2, 3, 4, 5, 6];
  f.perHorizon!.forEach((name, k) => {
    const m = createForecaster(name, { metric: "cpu", horizons, pooled });
    m.fit(history.slice(-240));
    assert.ok(Math.abs(m.predict(history, 6)[k]! - f.values[k]!) < 1e-9, `h${k + 1}: ${name}`);
  });
  assert.match(f.reason, /per horizon .*h1 .*h6 /);
});

test("the pooled model it refits finds the fleet's cycle; trainedAt tells when a series was trained", async () => {
  let now = 1_000;
  const cache = new ForecastCache({ store: new InMemoryModelStore(), log, retrainMs: 60_000, horizon: 3, now: () => now });
  // 8 containers following one 48-sample cycle, 6 cycles of history each.
  const histories = Array.from({ length: 8 }, (_, k) => ar1(288, 40 + k, k + 1).map((v, t) => v / 4 + 30 * Math.sin((2 * Math.PI * (t + 5 * k)) / 48)));
  cache.refreshPooled(histories);
  const period = cache.pooledModel()?.features.period ?? 0;
  assert.ok(Math.abs(period - 48) <= 1, `period ${period}`);
  assert.equal(cache.trainedAt("c0"), undefined);
  cache.beginRound();
  const f = await cache.forecast("c0", histories[0]!);
  assert.equal(cache.trainedAt("c0"), 1_000);
  assert.equal(f.values.length, 3);
  assert.ok(f.perHorizon?.includes("global-linear"), `chosen ${f.perHorizon?.join(",")}`);
  // Within the retrain period the trained models just predict.
  now += 30_000;
  cache.beginRound();
  await cache.forecast("c0", histories[0]!);
  assert.equal(cache.trainedAt("c0"), 1_000);
});

test("model-store look-ups: none for a short series, one per retrain period for a series without a saved model", async () => {
  const store = new InMemoryModelStore();
  let loads = 0;
  const load = store.load.bind(store);
  store.load = async (key) => {
    loads++;
    return load(key);
  };
  let t = 0;
  const cache = new ForecastCache({ store, log, retrainMs: 60_000, horizon: 2, trainsPerRound: 0, now: () => t });
  cache.beginRound();
  await cache.forecast("short", [1, 2, 3]);
  assert.equal(loads, 0);
  const long = ar1(120, 40, 3);
  for (let round = 0; round < 3; round++) {
    cache.beginRound();
    assert.equal((await cache.forecast("long", long)).model, "ewma");
  }
  assert.equal(loads, 1, "looked up once; no model and no training allowed: the baseline");
  // Another replica saves a model; it is found after the retrain period.
  const other = new ForecastCache({ store, log, retrainMs: 60_000, horizon: 2 });
  other.beginRound();
  await other.forecast("long", long);
  t += 60_000;
  cache.beginRound();
  assert.equal((await cache.forecast("long", long)).reason, "restored from the model store");
  assert.equal(loads, 3);
});

test("the control loop's pooled fit runs on a worker thread: it returns at once, and the model it brings back is the synchronous fit's", async () => {
  let now = 1_000;
  const cache = new ForecastCache({ store: new InMemoryModelStore(), log, retrainMs: 60_000, horizon: 4, now: () => now });
  const fleet = [1, 2, 3, 4, 5, 6].map((k) => ar1(200, 20 + 10 * k, k));
  cache.refreshPooledInBackground(fleet);
  assert.equal(cache.pooledModel(), undefined, "nothing yet: the fit is on its thread");
  await cache.pooledFitSettled();
  const fromThread = cache.pooledModel();
  assert.ok(fromThread);
  assert.deepEqual(fromThread, fitPooledLinear(fleet, { horizons: [1, 2, 3, 4] }));
  // Fresh within the retrain period: no second fit; stale: a new one.
  cache.refreshPooledInBackground(fleet.map((s) => s.map((v) => v + 5)));
  await cache.pooledFitSettled();
  assert.equal(cache.pooledModel(), fromThread);
  now += 60_000;
  cache.refreshPooledInBackground(fleet.map((s) => s.map((v) => v + 5)));
  await cache.pooledFitSettled();
  assert.notEqual(cache.pooledModel(), fromThread);
});

test("a background fit that fails keeps the model there was (and is logged); one fit at a time", async () => {
  let now = 1_000;
  let calls = 0;
  let fail = false;
  const fleet = [1, 2, 3].map((k) => ar1(120, 20 + 10 * k, k));
  const cache = new ForecastCache({
    store: new InMemoryModelStore(),
    log,
    retrainMs: 60_000,
    horizon: 3,
    now: () => now,
    fitPooled: async (req) => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw new Error("out of memory");
      return fitPooledLinear(req.histories, req.opts);
    },
  });
  cache.refreshPooledInBackground(fleet);
  cache.refreshPooledInBackground(fleet);
  await cache.pooledFitSettled();
  assert.equal(calls, 1, "a second call while a fit runs starts nothing");
  const first = cache.pooledModel();
  assert.ok(first);
  now += 60_000;
  fail = true;
  cache.refreshPooledInBackground(fleet);
  await cache.pooledFitSettled();
  assert.equal(calls, 2);
  assert.equal(cache.pooledModel(), first, "the previous model stays");
});
