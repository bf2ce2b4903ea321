import type { ForecastReport, ForecastReportOptions } from "./forecast-report.js";
import type { ForecasterName } from "./forecaster.js";
import type { PooledLinearModel } from "./global-linear-forecaster.js";
import { pickBest, type ModelScore, type Preference } from "./rolling-origin.js";

/**
 * The one forecasting set-up: what `bench:forecast` measures and what the live control loop runs
 * (services/control/src/rebalance/forecast-cache.ts). Random forest and permutation-importance
 * feature selection are left out of both: they cost seconds per series on the control service's
 * event loop, and the bench chose the forest for about 1 % of the series (see
 * bench/results/forecast.md), so measuring them would describe a loop Herd does not run.
 */
export const FORECAST_SETUP = {
  /** Candidates when a pooled (fleet-wide) model exists; without one, `global-linear` is left out. */
  models: ["last", "ewma", "linear", "global-linear"] as readonly ForecasterName[],
  selectFeatures: false,
  /** Rolling-origin folds of the per-series validation. */
  folds: 2,
  /** `global-linear` is kept unless another model validates better by more than this fraction. */
  margin: 0.05,
} as const;

/**
 * forecastReport's options for FORECAST_SETUP, given the fleet's pooled model if there is one:
 * the candidates, folds and preference the control loop validates with. ForecastCache trains with
 * them and `herd forecast` shows them, so what a user is shown is what the rebalancer runs.
 */
export function liveReportOptions(pooled: PooledLinearModel | undefined): Pick<ForecastReportOptions, "models" | "folds" | "selectFeatures"> & {
  pooled?: PooledLinearModel;
  prefer?: Preference;
} {
  return {
    models: FORECAST_SETUP.models.filter((m) => pooled || m !== "global-linear"),
    folds: FORECAST_SETUP.folds,
    selectFeatures: FORECAST_SETUP.selectFeatures,
    ...(pooled ? { pooled, prefer: { name: "global-linear", margin: FORECAST_SETUP.margin } } : {}),
  };
}

/**
 * The choice rule, per horizon: the lowest rolling-origin MAE at that horizon among the models
 * that validated without falling back to their baseline, `prefer` kept unless beaten by more
 * than its margin; EWMA when nothing could be scored.
 */
export function choosePerHorizon(scores: readonly ModelScore[], horizons: readonly number[], prefer?: Preference): ForecasterName[] {
  const candidates = scores.filter((s) => s.fallbackFolds === 0);
  return horizons.map((h) => pickBest(candidates, h, prefer)?.name ?? "ewma");
}

/**
 * choosePerHorizon over a report's validated models; the report's own choice at every horizon
 * when its history was too short to validate anything.
 */
export function choiceByHorizon(
  report: Pick<ForecastReport, "models" | "validation" | "chosen">,
  horizons: readonly number[],
  prefer?: Preference,
): ForecasterName[] {
  if (!report.validation) return horizons.map(() => report.chosen.name);
  const available = report.models.filter((m) => m.available).map((m) => m.validation);
  return choosePerHorizon(available, horizons, prefer);
}
