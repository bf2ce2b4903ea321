import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import { EwmaForecaster } from "./baselines.js";
import { seededRandom } from "./feature-selection.js";
import { fitPooledLinear, GlobalLinearForecaster, predictPooled } from "./global-linear-forecaster.js";
import { createForecaster, forecasterFromJSON } from "./model-codec.js";
import { pooledFeatureNames, pooledFeatureRow, resolvePooledFeatures } from "./pooled-features.js";
import { pickBest, rollingOrigin, type ModelScore } from "./rolling-origin.js";
import { ErrorStats } from "./metrics.js";

/** Gaussian noise from the seeded PRNG (Box–Muller), so every case is reproducible. */
function gauss(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

/** Mean-reverting AR(1) around a per-series level: x_t − μ = φ (x_{t−1} − μ) + σ ε_t. */
function ar1(n: number, mu: number, phi: number, sigma: number, rnd: () => number): number[] {
  const out: number[] = [];
  let x = mu;
  for (let t = 0; t < n; t++) {
    x = mu + phi * (x - mu) + sigma * gauss(rnd);
    out.push(x);
  }
  return out;
}

/** Pooled MAE at `h` of a forecaster over the last `test` origins of each series. */
function maeAt(make: () => { predict(r: readonly number[], h: number): number[] }, series: number[][], test: number, h: number): number {
  const st = new ErrorStats();
  for (const s of series) {
    const f = make();
    for (let o = s.length - test - 1; o + h < s.length; o++) st.add(f.predict(s.slice(Math.max(0, o - 95), o + 1), h)[h - 1]!, s[o + h]!);
  }
  return st.mae;
}

describe("pooled features", () => {
  test("names and hand-computed row (windows truncated to what is available)", () => {
    const o = resolvePooledFeatures({ lags: 2, windows: [2, 4], stdWindows: [2], ewmaAlpha: 0.5, minRecent: 3 });
    assert.deepEqual(pooledFeatureNames(o), ["lag0", "lag1", "ewma", "mean2", "median2", "mean4", "median4", "std2"]);
    const s = [4, 0, 8];
    // ewma seeded at 4: 0.5·0+0.5·4 = 2, then 0.5·8+0.5·2 = 5; window 4 holds only 3 samples
    assert.deepEqual(pooledFeatureRow(s, 2, o), [8, 0, 5, 4, 4, 4, 4, 4]);
    assert.throws(() => pooledFeatureRow(s, 1, o), RangeError);
  });
});

describe("global-linear on synthetic series with known answers", () => {
  // 60 series, each with its own level; 288 samples like one PlanetLab day.
  const rnd = seededRandom(11);
  const series = Array.from({ length: 60 }, (_, k) => ar1(288, 10 + (k % 12) * 7, 0.6, 4, rnd));
  const train = series.map((s) => s.slice(0, 192));

  const cases = [
    { name: "AR(1) φ=0.6, h=5: pooled beats EWMA by > 15 %", h: 5, maxRatio: 0.85 },
    { name: "AR(1) φ=0.6, h=1: pooled beats EWMA", h: 1, maxRatio: 0.97 },
  ];
  const pooled = fitPooledLinear(train, { horizons: [1, 5] })!;
  for (const c of cases) {
    test(c.name, () => {
      const g = maeAt(() => new GlobalLinearForecaster({ pooled }), series, 96, c.h);
      const e = maeAt(() => new EwmaForecaster(0.7), series, 96, c.h);
      assert.ok(g / e <= c.maxRatio, `global ${g.toFixed(3)} / ewma ${e.toFixed(3)} = ${(g / e).toFixed(3)} > ${c.maxRatio}`);
    });
  }

  test("the pooled fit is deterministic and records what it saw", () => {
    const again = fitPooledLinear(train, { horizons: [1, 5] })!;
    assert.deepEqual(again, pooled);
    assert.equal(pooled.trainedOn.series, 60);
    assert.deepEqual(
      pooled.models.map((m) => m.horizon),
      [1, 5],
    );
    const capped = fitPooledLinear(train, { horizons: [1, 5], maxRows: 500 })!;
    assert.equal(capped.trainedOn.rows, 500);
  });

  test("constant series: the pooled model forecasts the constant", () => {
    const flat = Array.from({ length: 8 }, (_, k) => Array.from({ length: 100 }, () => 5 * k));
    const m = fitPooledLinear(flat, { horizons: [1, 3], loss: "squared" })!;
    for (const v of predictPooled(m, flat[3]!, 3)!) assert.ok(Math.abs(v - 15) < 1e-6, `${v}`);
  });

  test("horizons without their own model use the nearest trained one above, else the largest", () => {
    const g = new GlobalLinearForecaster({ pooled });
    const recent = series[0]!.slice(100, 196);
    const fc = g.predict(recent, 7);
    assert.equal(fc.length, 7);
    assert.ok(fc.every(Number.isFinite));
    assert.equal(fc[1], fc[4]); // h=2..5 → the h=5 model
    assert.equal(fc[6], fc[4]); // h=7 → largest (5)
    assert.notEqual(fc[0], fc[4]);
  });

  test("no pooled model, or too few recent samples → EWMA, with a reason", () => {
    const bare = createForecaster("global-linear", { metric: "cpu" }) as GlobalLinearForecaster;
    bare.fit([1, 2, 3]);
    assert.match(bare.reason!, /no pooled model/);
    assert.deepEqual(bare.predict([10, 20], 2), new EwmaForecaster(0.7).predict([10, 20], 2));
    const g = new GlobalLinearForecaster({ pooled });
    g.fit(series[0]!);
    assert.equal(g.reason, undefined);
    assert.deepEqual(g.predict([3, 4, 5], 2), new EwmaForecaster(0.7).predict([3, 4, 5], 2));
    assert.match(g.lastPredictReason!, /only 3 recent samples/);
  });

  test("toJSON → forecasterFromJSON gives the same forecasts; a corrupt pooled model is refused", () => {
    const g = createForecaster("global-linear", { metric: "cpu", pooled });
    const back = forecasterFromJSON(JSON.parse(JSON.stringify(g.toJSON())));
    assert.equal(back.name, "global-linear");
    const recent = series[5]!.slice(0, 150);
    assert.deepEqual(back.predict(recent, 5), g.predict(recent, 5));
    const bad = { ...g.toJSON(), pooled: { ...pooled, kind: "something-else" } };
    assert.throws(() => forecasterFromJSON(bad), ValidationError);
  });

  test("rolling-origin scores global-linear like any other forecaster", () => {
    const r = rollingOrigin(
      series[2]!.slice(0, 192),
      undefined,
      { ewma: () => new EwmaForecaster(0.7), "global-linear": () => new GlobalLinearForecaster({ pooled }) },
      { horizons: [5], folds: 2 },
    );
    const g = r.scores.find((s) => s.name === "global-linear")!;
    assert.equal(g.fallbackFolds, 0);
    assert.ok(g.perHorizon[0]!.count > 0);
  });
});

describe("pickBest with a preferred model", () => {
  const score = (name: ModelScore["name"], mae: number): ModelScore => ({
    name,
    perHorizon: [{ horizon: 5, mae, rmse: mae, count: 10 }],
    mae,
    rmse: mae,
    fallbackFolds: 0,
  });
  const cases = [
    {
      name: "preferred kept when another is better by less than the margin",
      scores: [score("linear", 0.97), score("global-linear", 1)],
      margin: 0.05,
      expected: "global-linear",
    },
    {
      name: "replaced when another is better by more than the margin",
      scores: [score("linear", 0.9), score("global-linear", 1)],
      margin: 0.05,
      expected: "linear",
    },
    { name: "margin 0 is plain lowest MAE", scores: [score("linear", 0.99), score("global-linear", 1)], margin: 0, expected: "linear" },
    { name: "preferred and best", scores: [score("ewma", 1.2), score("global-linear", 1)], margin: 0.05, expected: "global-linear" },
    { name: "preferred missing: lowest MAE", scores: [score("ewma", 1.2), score("linear", 1)], margin: 0.05, expected: "linear" },
  ] as const;
  for (const c of cases) {
    test(c.name, () => assert.equal(pickBest(c.scores, 5, { name: "global-linear", margin: c.margin })?.name, c.expected));
  }
});
