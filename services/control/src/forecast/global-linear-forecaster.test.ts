import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import { EwmaForecaster } from "./baselines.js";
import { seededRandom } from "./feature-selection.js";
import { fitPooledLinear, GlobalLinearForecaster, predictPooled, type PooledLinearModel } from "./global-linear-forecaster.js";
import { createForecaster, forecasterFromJSON } from "./model-codec.js";
import { detectPeriod, pooledFeatureNames, pooledFeatureRow, resolvePooledFeatures } from "./pooled-features.js";
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

/** A daily-like cycle of `period` samples with a per-series level, phase and noise. */
function cyclic(n: number, period: number, level: number, phase: number, amp: number, sigma: number, rnd: () => number): number[] {
  return Array.from({ length: n }, (_, t) => level + amp * Math.sin((2 * Math.PI * (t + phase)) / period) + sigma * gauss(rnd));
}

describe("periodic and covariate pooled features", () => {
  test("detectPeriod finds a shared cycle and reports none for noise or slow decay", () => {
    const rnd = seededRandom(5);
    const withCycle = Array.from({ length: 6 }, (_, k) => cyclic(300, 48, 40 + 5 * k, 7 * k, 15, 3, rnd));
    const p = detectPeriod(withCycle, { minLag: 12, maxLag: 120 });
    assert.ok(Math.abs(p - 48) <= 1, `period ${p}`);
    // A cycle under slowly decaying noise (the usual shape of utilization: autocorrelation is
    // highest at the shortest lag) is still found.
    const slowAndCycle = Array.from({ length: 6 }, (_, k) => {
      const slow = ar1(300, 0, 0.97, 3, rnd);
      return cyclic(300, 48, 40, 7 * k, 10, 1, rnd).map((v, t) => v + slow[t]!);
    });
    const q = detectPeriod(slowAndCycle, { minLag: 6, maxLag: 120 });
    assert.ok(Math.abs(q - 48) <= 2, `period under slow noise ${q}`);
    const noise = Array.from({ length: 6 }, () => ar1(300, 40, 0.95, 3, rnd));
    assert.equal(detectPeriod(noise, { minLag: 12, maxLag: 120 }), 0);
    // Too short for two cycles of any candidate lag: nothing to find.
    assert.equal(detectPeriod([cyclic(40, 48, 40, 0, 15, 1, rnd)], { minLag: 24, maxLag: 120 }), 0);
  });

  test("seasonal columns: profile over past cycles relative to the latest value, never after the origin", () => {
    const o = resolvePooledFeatures({ lags: 1, windows: [2], stdWindows: [], minRecent: 2, period: 4, periodCycles: 2, periodHorizon: 2 });
    const names = pooledFeatureNames(o);
    assert.deepEqual(names.slice(-4), ["season4+0", "season4+1", "season4+2", "seasonSeen4"]);
    const s = [0, 10, 20, 30, 1, 11, 21, 31, 2];
    const row = pooledFeatureRow(s, 8, o);
    const at = (name: string) => row[names.indexOf(name)]!;
    // k=0: j=4 (samples 3,4,5) and j=0 (samples 0,1) → mean of 30,1,11,0,10 = 10.4, minus s[8]=2.
    assert.ok(Math.abs(at("season4+0") - (10.4 - 2)) < 1e-9);
    // k=1: j=5 (4,5,6) and j=1 (0,1,2) → mean of 1,11,21,0,10,20 = 10.5, minus 2.
    assert.ok(Math.abs(at("season4+1") - (10.5 - 2)) < 1e-9);
    assert.equal(at("seasonSeen4"), 1);
    // Changing a sample after the origin changes nothing.
    assert.deepEqual(pooledFeatureRow([...s, 99], 8, o), row);
    // One cycle back only: half seen.
    assert.equal(pooledFeatureRow(s.slice(0, 6), 5, o)[names.indexOf("seasonSeen4")], 0.5);
  });

  test("the pooled model learns a shared cycle and a covariate that leads the target", () => {
    const rnd = seededRandom(11);
    const P = 24;
    const n = 24 * 8;
    const cyclicOnly: number[][] = [];
    const series: number[][] = [];
    const covs: { lead: number[] }[] = [];
    for (let k = 0; k < 20; k++) {
      const c = cyclic(n, P, 30 + k, 3 * k, 12, 1, rnd);
      cyclicOnly.push(c);
      // With a covariate: the target also follows another metric three steps earlier; the
      // covariate handed over (aligned) is that metric, known three steps ahead of its effect.
      const lead = ar1(n + 3, 0, 0.8, 4, rnd);
      covs.push({ lead: lead.slice(3, n + 3) });
      series.push(c.map((v, t) => v + lead[t]!));
    }
    const cut = n - 48;
    const mae = (m: PooledLinearModel, data: number[][], withCov: boolean) => {
      const st = new ErrorStats();
      data.forEach((s, k) => {
        for (let o = cut - 1; o + 3 < n; o++) {
          const c = withCov ? { lead: covs[k]!.lead.slice(0, o + 1) } : undefined;
          st.add(predictPooled(m, s.slice(0, o + 1), 3, 0, c)![2]!, s[o + 3]!);
        }
      });
      return st.mae;
    };
    const trainOf = (data: number[][]) => data.map((s) => s.slice(0, cut));
    const base = fitPooledLinear(trainOf(cyclicOnly), { horizons: [1, 3], detectPeriod: false })!;
    const periodic = fitPooledLinear(trainOf(cyclicOnly), { horizons: [1, 3] })!;
    assert.ok(Math.abs(periodic.features.period - P) <= 1, `detected ${periodic.features.period}`);
    const e0 = mae(base, cyclicOnly, false);
    const e1 = mae(periodic, cyclicOnly, false);
    // Noise alone leaves a MAE of ≈0.8 (σ = 1): the cycle is most of what remains above it.
    assert.ok(e1 < 0.9 * e0, `periodic ${e1} vs target-only ${e0}`);
    const noCov = fitPooledLinear(trainOf(series), { horizons: [1, 3] })!;
    const both = fitPooledLinear(trainOf(series), { horizons: [1, 3], covariates: covs.map((c) => ({ lead: c.lead.slice(0, cut) })) })!;
    assert.deepEqual(both.features.covariates, ["lead"]);
    const e2 = mae(noCov, series, false);
    const e3 = mae(both, series, true);
    assert.ok(e3 < 0.8 * e2, `with covariate ${e3} vs without ${e2}`);
    // A model that uses a covariate cannot forecast without it: the forecaster says so and uses EWMA.
    assert.equal(predictPooled(both, series[0]!.slice(0, 100), 3), undefined);
    const f = new GlobalLinearForecaster({ pooled: both });
    const fc = f.predict(series[0]!.slice(0, 100), 3);
    assert.equal(fc.length, 3);
    assert.match(f.lastPredictReason ?? "", /covariates lead missing/);
    // Saved and loaded, the periodic model forecasts the same.
    const back = forecasterFromJSON(JSON.parse(JSON.stringify(new GlobalLinearForecaster({ pooled: periodic }).toJSON())));
    const recent = series[1]!.slice(0, 150);
    assert.deepEqual(back.predict(recent, 3), new GlobalLinearForecaster({ pooled: periodic }).predict(recent, 3));
  });
});
