import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { EwmaForecaster, LastValueForecaster, ewmaAlphaFor } from "./baselines.js";
import { LinearForecaster } from "./linear-forecaster.js";
import { RandomForestForecaster } from "./random-forest-forecaster.js";
import type { Forecaster } from "./forecaster.js";
import { rollingOrigin } from "./rolling-origin.js";
import { fitRidge, fitRidgeAbsolute, predictRidge } from "./ridge.js";

const constant = Array.from({ length: 120 }, () => 42);
const ramp = Array.from({ length: 120 }, (_, i) => 10 + 0.5 * i);
// Period 24 samples; a little deterministic "noise" so trees and ridge have something to fit around.
const sine = Array.from({ length: 240 }, (_, i) => 50 + 30 * Math.sin((2 * Math.PI * i) / 24) + ((i * 7919) % 11) / 11);

const small = { horizons: [1, 2, 3, 4, 5], minTrainRows: 20 };
const all = (): Forecaster[] => [
  new LastValueForecaster(),
  new EwmaForecaster(0.7),
  new LinearForecaster(small),
  new RandomForestForecaster({ ...small, forest: { nEstimators: 8 } }),
];

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

describe("forecasters on series with known answers", () => {
  for (const f of all()) {
    test(`constant series → ${f.name} forecasts the constant exactly`, () => {
      f.fit(constant);
      assert.deepEqual(f.predict(constant, 5), [42, 42, 42, 42, 42]);
    });
  }

  test("linear ramp → linear model continues the ramp exactly, last-value lags by slope·h", () => {
    const lin = new LinearForecaster(small);
    lin.fit(ramp.slice(0, 100));
    const fc = lin.predict(ramp.slice(0, 100), 5);
    fc.forEach((v, k) => assert.ok(close(v, ramp[100 + k]!, 1e-9), `h=${k + 1}: ${v} vs ${ramp[100 + k]}`));
    const last = new LastValueForecaster().predict(ramp.slice(0, 100), 5);
    last.forEach((v, k) => assert.ok(close(ramp[100 + k]! - v, 0.5 * (k + 1), 1e-12)));
  });

  const ewmaCases = [
    { name: "α=0.7 (CPU)", alpha: 0.7, series: [10, 20, 30], expected: 0.7 * 30 + 0.3 * (0.7 * 20 + 0.3 * 10) },
    { name: "α=0.8 (memory)", alpha: 0.8, series: [100, 0], expected: 20 },
    { name: "α=1 is last value", alpha: 1, series: [1, 2, 9], expected: 9 },
    { name: "single sample", alpha: 0.7, series: [5], expected: 5 },
    { name: "empty history", alpha: 0.7, series: [], expected: 0 },
  ];
  for (const c of ewmaCases) {
    test(`ewma hand-computed: ${c.name}`, () => {
      const fc = new EwmaForecaster(c.alpha).predict(c.series, 3);
      assert.equal(fc.length, 3);
      fc.forEach((v) => assert.ok(close(v, c.expected, 1e-12), `${v} ≠ ${c.expected}`));
    });
  }
  test("ewma α per metric follows ResCoin; bad α is refused", () => {
    assert.equal(ewmaAlphaFor("cpu"), 0.7);
    assert.equal(ewmaAlphaFor("mem"), 0.8);
    assert.equal(ewmaAlphaFor("disk"), 0.8);
    assert.throws(() => new EwmaForecaster(0), RangeError);
  });

  test("seasonal (sine) series → linear and random forest beat last value at h=1..5 (rolling origin)", () => {
    const { scores } = rollingOrigin(
      sine,
      undefined,
      {
        last: () => new LastValueForecaster(),
        linear: () => new LinearForecaster(small),
        "random-forest": () => new RandomForestForecaster({ ...small, forest: { nEstimators: 10 } }),
      },
      { horizons: [1, 5], folds: 2, minTrain: 120 },
    );
    const mae = Object.fromEntries(scores.map((s) => [s.name, s.perHorizon.map((p) => p.mae)]));
    for (const k of [0, 1]) {
      assert.ok(mae.linear![k]! < 0.5 * mae.last![k]!, `linear ${mae.linear![k]} vs last ${mae.last![k]}`);
      assert.ok(mae["random-forest"]![k]! < mae.last![k]!, `rf ${mae["random-forest"]![k]} vs last ${mae.last![k]}`);
    }
  });

  test("ridge recovers known coefficients on noise-free data", () => {
    const X = Array.from({ length: 50 }, (_, i) => [i % 7, (i * 3) % 5, 1]);
    const y = X.map(([a, b]) => 2 + 3 * a! - 4 * b!);
    const m = fitRidge(X, y, 1e-9);
    assert.ok(close(predictRidge(m, [10, 10, 1]), 2 + 30 - 40, 1e-5));
    assert.equal(m.coef[2], 0); // constant column dropped
  });

  test("absolute-loss ridge ignores one huge outlier that drags the squared-loss fit", () => {
    const X = Array.from({ length: 40 }, (_, i) => [i]);
    const y = X.map(([i]) => 2 * i! + (i === 20 ? 1000 : 0));
    const lad = fitRidgeAbsolute(X, y, 1e-9, 20);
    const ls = fitRidge(X, y, 1e-9);
    assert.ok(close(predictRidge(lad, [30]), 60, 0.5), `lad ${predictRidge(lad, [30])}`);
    assert.ok(Math.abs(predictRidge(ls, [30]) - 60) > 10, `ls ${predictRidge(ls, [30])}`);
  });
});

describe("fallback with a reason", () => {
  for (const make of [() => new LinearForecaster(small), () => new RandomForestForecaster(small)]) {
    test(`${make().name}: too little history → ewma forecast and a reason naming the need`, () => {
      const f = make();
      const short = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
      f.fit(short);
      assert.ok(!f.trained);
      assert.match(f.reason!, /too little history .*10 samples, needs ≥ \d+.*using ewma/);
      assert.deepEqual(f.predict(short, 3), new EwmaForecaster(0.7).predict(short, 3));
      assert.equal(f.lastPredictReason, f.reason);
    });
  }
  test("predict before fit falls back; too few recent samples falls back", () => {
    const f = new LinearForecaster(small);
    assert.deepEqual(f.predict([1, 2], 2), new EwmaForecaster(0.7).predict([1, 2], 2));
    assert.match(f.lastPredictReason!, /not fitted/);
    f.fit(ramp);
    f.predict([1, 2, 3], 1);
    assert.match(f.lastPredictReason!, /only 3 recent samples/);
    f.predict(ramp, 1);
    assert.equal(f.lastPredictReason, undefined);
  });
  test("context with other covariates than at fit → fallback, not a crash", () => {
    const f = new LinearForecaster(small);
    f.fit(ramp, { covariates: { mem: ramp } });
    f.predict(ramp, 2);
    assert.match(f.lastPredictReason!, /trained on/);
  });
  test("forecasts are never negative and beyond-trained horizons reuse the largest model", () => {
    const down = Array.from({ length: 100 }, (_, i) => 100 - i);
    const f = new LinearForecaster({ ...small, horizons: [1, 2] });
    f.fit(down);
    const fc = f.predict(down, 4);
    assert.ok(close(fc[0]!, 0, 1e-9));
    assert.deepEqual(fc.slice(1), [0, 0, 0]);
  });
});
