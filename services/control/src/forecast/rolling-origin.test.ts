import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { pickBest, rollingOrigin, originRange, type ModelScore } from "./rolling-origin.js";
import { LastValueForecaster } from "./baselines.js";
import { LinearForecaster } from "./linear-forecaster.js";
import type { Forecaster, SeriesContext } from "./forecaster.js";

/** Records what it was shown, to prove that no forecast sees its own future. */
class SpyForecaster implements Forecaster {
  readonly name = "last" as const;
  static fits: number[] = [];
  static leaks = 0;
  fit(history: readonly number[]): void {
    SpyForecaster.fits.push(history.length);
  }
  predict(recent: readonly number[], horizon: number, ctx?: SeriesContext): number[] {
    // The series is 0,1,2,...: the latest value tells which origin this is; the context must match it.
    if (ctx?.t && ctx.t[ctx.t.length - 1] !== recent[recent.length - 1]) SpyForecaster.leaks++;
    return Array.from({ length: horizon }, () => recent[recent.length - 1]!);
  }
}

describe("rolling-origin validation", () => {
  test("expanding window: each fold fits on everything before it and nothing after", () => {
    SpyForecaster.fits = [];
    const s = Array.from({ length: 100 }, (_, i) => i);
    const r = rollingOrigin(s, { t: s }, { last: () => new SpyForecaster() }, { horizons: [1, 3], folds: 4, minTrain: 40 });
    assert.deepEqual(r.origins, { first: 39, last: 96, folds: 4 });
    // 58 origins in 4 blocks: starts at 39, 53, 68, 82 → fits see 40, 54, 69, 83 samples
    assert.deepEqual(SpyForecaster.fits, [40, 54, 69, 83]);
    assert.equal(SpyForecaster.leaks, 0);
    // last value on a unit ramp is off by exactly h
    assert.deepEqual(
      r.scores[0]!.perHorizon.map((p) => [p.horizon, p.mae, p.count]),
      [
        [1, 1, 58],
        [3, 3, 58],
      ],
    );
  });

  test("on a ramp the linear model wins and pickBest names it", () => {
    const s = Array.from({ length: 120 }, (_, i) => 3 + 2 * i);
    const r = rollingOrigin(
      s,
      undefined,
      { last: () => new LastValueForecaster(), linear: () => new LinearForecaster({ horizons: [1, 2] }) },
      { horizons: [1, 2] },
    );
    assert.equal(pickBest(r.scores)?.name, "linear");
    assert.equal(pickBest(r.scores, 2)?.name, "linear");
  });

  const pickCases: { name: string; scores: [string, number, number][]; at?: number; expected: string | undefined }[] = [
    {
      name: "lowest mean MAE",
      scores: [
        ["last", 3, 3],
        ["ewma", 2, 4],
        ["linear", 2.5, 2.5],
      ],
      expected: "linear",
    },
    {
      name: "at a given horizon",
      scores: [
        ["last", 3, 3],
        ["ewma", 2, 4],
        ["linear", 2.5, 2.5],
      ],
      at: 1,
      expected: "ewma",
    },
    {
      name: "tie keeps the earlier (simpler) model",
      scores: [
        ["last", 1, 1],
        ["linear", 1, 1],
      ],
      expected: "last",
    },
    {
      name: "NaN (never scored) is ignored",
      scores: [
        ["last", NaN, NaN],
        ["ewma", 5, 5],
      ],
      expected: "ewma",
    },
    { name: "nothing scored", scores: [["last", NaN, NaN]], expected: undefined },
  ];
  for (const c of pickCases) {
    test(`pickBest: ${c.name}`, () => {
      const scores = c.scores.map(([name, m1, m2]) => ({
        name,
        perHorizon: [
          { horizon: 1, mae: m1, rmse: m1, count: 1 },
          { horizon: 2, mae: m2, rmse: m2, count: 1 },
        ],
        mae: (m1 + m2) / 2,
        rmse: (m1 + m2) / 2,
        fallbackFolds: 0,
      })) as ModelScore[];
      assert.equal(pickBest(scores, c.at)?.name, c.expected);
    });
  }

  test("no room for a single origin → no origins and NaN scores", () => {
    assert.equal(originRange(5, 5, 2), undefined);
    const r = rollingOrigin([1, 2, 3], undefined, { last: () => new LastValueForecaster() }, { horizons: [3] });
    assert.equal(r.origins, undefined);
    assert.ok(Number.isNaN(r.scores[0]!.mae));
  });
});
