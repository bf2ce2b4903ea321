import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseOrThrow } from "../../../../shared/src/contracts/index.js";
import { ValidationError } from "../../../../shared/src/errors.js";
import { ForecastQuery } from "../rebalance/rebalance-routes.js";
import { forecastReport } from "./forecast-report.js";
import { FORECAST_SETUP, choiceByHorizon, liveReportOptions } from "./forecast-setup.js";
import { fitPooledLinear } from "./global-linear-forecaster.js";

// A cycle with deterministic jitter: long enough to validate and to rank features.
const cpu = Array.from({ length: 400 }, (_, i) => 40 + 25 * Math.sin((2 * Math.PI * i) / 48) + ((i * 7919) % 13) / 3);

describe("the live loop's forecasting set-up, as `herd forecast` shows it", () => {
  test("without a pooled model: the loop's per-series candidates only, no random forest, no selection", () => {
    const o = liveReportOptions(undefined);
    assert.deepEqual(o.models, ["last", "ewma", "linear"]);
    assert.equal(o.folds, FORECAST_SETUP.folds);
    assert.equal(o.selectFeatures, false);
    assert.equal(o.prefer, undefined);
  });

  test("with a pooled model: global-linear joins and is preferred within the loop's margin", () => {
    const pooled = fitPooledLinear([cpu, cpu.map((v) => v / 2)], { horizons: [1, 2, 3] });
    assert.ok(pooled);
    const o = liveReportOptions(pooled);
    assert.deepEqual(o.models, FORECAST_SETUP.models);
    assert.deepEqual(o.prefer, { name: "global-linear", margin: FORECAST_SETUP.margin });
  });

  test("explain ranks the features without selecting: every model keeps every feature, as in the loop", () => {
    const o = liveReportOptions(undefined);
    const plain = forecastReport({ metric: "cpu", values: cpu }, { ...o, horizon: 3, backtestPoints: 0 });
    const explained = forecastReport({ metric: "cpu", values: cpu }, { ...o, horizon: 3, backtestPoints: 0, rankFeatures: true, forest: { nEstimators: 4 } });
    assert.deepEqual(plain.ranking, []);
    assert.ok(explained.ranking.length > 10, "a ranking is computed on request");
    assert.deepEqual(explained.selected, plain.selected, "ranking selects nothing");
    assert.equal(explained.selected.length, explained.ranking.length, "every ranked feature is used");
    assert.deepEqual(
      explained.models.map((m) => m.name),
      ["last", "ewma", "linear"],
    );
  });

  test("choice per horizon: validated models by their MAE at each horizon; the report's choice when nothing validated", () => {
    const o = liveReportOptions(undefined);
    const r = forecastReport({ metric: "cpu", values: cpu }, { ...o, horizon: 3, backtestPoints: 0 });
    const per = choiceByHorizon(r, [1, 2, 3]);
    assert.equal(per.length, 3);
    for (const [k, name] of per.entries()) {
      const maes = r.models.map((m) => ({ name: m.name, mae: m.validation.perHorizon.find((p) => p.horizon === k + 1)!.mae }));
      assert.equal(name, maes.sort((a, b) => a.mae - b.mae)[0]!.name, `h=${k + 1}`);
    }
    const short = forecastReport({ metric: "cpu", values: cpu.slice(0, 3) }, { ...o, horizon: 3, backtestPoints: 0 });
    assert.equal(short.validation, undefined);
    assert.deepEqual(choiceByHorizon(short, [1, 2, 3]), [short.chosen.name, short.chosen.name, short.chosen.name]);
  });

  test("the route's query: explain is true or false, anything else is a 400 naming it", () => {
    assert.equal(parseOrThrow(ForecastQuery, {}).explain, false);
    assert.equal(parseOrThrow(ForecastQuery, { explain: "true" }).explain, true);
    assert.throws(
      () => parseOrThrow(ForecastQuery, { explain: "yes" }),
      (e: unknown) => e instanceof ValidationError && /explain/.test(e.message),
    );
  });
});
