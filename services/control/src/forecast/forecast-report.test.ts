import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { forecastReport } from "./forecast-report.js";
import { fitPooledLinear } from "./global-linear-forecaster.js";
import { seededRandom } from "./feature-selection.js";

const day = 288;
// Two days of a daily cycle at 5-minute samples plus deterministic jitter, with memory following CPU.
const cpu = Array.from({ length: 2 * day }, (_, i) => 40 + 25 * Math.sin((2 * Math.PI * i) / 48) + ((i * 7919) % 13) / 3);
const t = cpu.map((_, i) => i * 300);
const mem = cpu.map((v) => 30 + v / 4);

describe("forecastReport", () => {
  test("full report: every model scored, chosen = lowest validation MAE, ranking and backtest", () => {
    const r = forecastReport({ metric: "cpu", values: cpu, t, covariates: { mem } }, { horizon: 3, forest: { nEstimators: 6 }, backtestPoints: 12 });
    assert.equal(r.points, cpu.length);
    assert.deepEqual(
      r.models.map((m) => m.name),
      ["last", "ewma", "linear", "random-forest"],
    );
    for (const m of r.models) {
      assert.equal(m.forecast.length, 3);
      assert.ok(m.available, `${m.name}: ${m.reason}`);
      assert.ok(m.validation.perHorizon.every((p) => p.count > 0 && Number.isFinite(p.mae)));
    }
    const best = [...r.models].sort((a, b) => a.validation.mae - b.validation.mae)[0]!;
    assert.equal(r.chosen.name, best.name);
    assert.match(r.chosen.reason, /lowest rolling-origin MAE \(mean over h=1\.\.3\)/);
    assert.deepEqual(r.forecast, best.forecast);
    // a smooth cycle: a learned model must beat last-value
    assert.ok(r.chosen.name === "linear" || r.chosen.name === "random-forest");
    assert.ok(r.ranking.length > 10);
    assert.ok(r.ranking[0]!.importance >= r.ranking[r.ranking.length - 1]!.importance);
    assert.ok(r.selected.length >= 3 && r.selected.length <= 10);
    assert.equal(r.backtest.points.length, 12);
    const lastPoint = r.backtest.points[11]!;
    assert.equal(lastPoint.index, cpu.length - 1);
    assert.equal(lastPoint.actual, cpu[cpu.length - 1]);
    assert.equal(lastPoint.t, t[t.length - 1]);
    // backtest forecast of last-value at h=1 is the previous sample
    assert.equal(lastPoint.forecasts.last, cpu[cpu.length - 2]);
  });

  test("short history: learned models unavailable with a reason, baseline chosen and the reason says so", () => {
    const short = cpu.slice(0, 40);
    const r = forecastReport({ metric: "mem", values: short }, { horizon: 2 });
    for (const name of ["linear", "random-forest"]) {
      const m = r.models.find((x) => x.name === name)!;
      assert.equal(m.available, false);
      assert.match(m.reason!, /too little history/);
    }
    assert.ok(r.chosen.name === "ewma" || r.chosen.name === "last");
    assert.match(r.chosen.reason, /linear skipped: too little history/);
    assert.deepEqual(r.ranking, []);
  });

  test("too short to validate at all → ewma with the reason", () => {
    const r = forecastReport({ metric: "cpu", values: [1, 2, 3, 4] }, { horizon: 6 });
    assert.equal(r.chosen.name, "ewma");
    assert.match(r.chosen.reason, /only 4 samples: too few for rolling-origin validation/);
    assert.equal(r.validation, undefined);
    assert.equal(r.forecast.length, 6);
    // the backtest keeps half the history for its fit: 4 samples leave room for one 1-step point
    assert.deepEqual(
      r.backtest.points.map((p) => [p.index, p.actual, p.forecasts.last]),
      [[3, 4, 3]],
    );
  });

  test("with a pooled model: global-linear is a candidate and kept unless beaten by the margin", () => {
    // Spiky series (idle with short bursts): the pooled median-seeking model is the one to keep.
    const rnd = seededRandom(3);
    const spiky = () => Array.from({ length: 240 }, () => (rnd() < 0.15 ? 60 + 30 * rnd() : 5 + 3 * rnd()));
    const fleet = Array.from({ length: 30 }, spiky);
    const pooled = fitPooledLinear(fleet, { horizons: [1, 2, 3] })!;
    const r = forecastReport({ metric: "cpu", values: spiky() }, { horizon: 3, pooled, selectFeatures: false, models: ["ewma", "linear", "global-linear"] });
    assert.deepEqual(
      r.models.map((m) => m.name),
      ["ewma", "linear", "global-linear"],
    );
    assert.ok(r.models.every((m) => m.available));
    assert.equal(r.chosen.name, "global-linear");
    assert.match(r.chosen.reason, /global-linear preferred unless another model's rolling-origin MAE \(mean over h=1\.\.3\) is lower by > 5 %/);
    const defaults = forecastReport({ metric: "cpu", values: spiky() }, { horizon: 3, pooled, selectFeatures: false });
    assert.deepEqual(
      defaults.models.map((m) => m.name),
      ["last", "ewma", "linear", "random-forest", "global-linear"],
    );
  });
});
