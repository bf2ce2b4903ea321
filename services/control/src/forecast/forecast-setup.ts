import type { ForecasterName } from "./forecaster.js";
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
 * The choice rule, per horizon: the lowest rolling-origin MAE at that horizon among the models
 * that validated without falling back to their baseline, `prefer` kept unless beaten by more
 * than its margin; EWMA when nothing could be scored.
 */
export function choosePerHorizon(scores: readonly ModelScore[], horizons: readonly number[], prefer?: Preference): ForecasterName[] {
  const candidates = scores.filter((s) => s.fallbackFolds === 0);
  return horizons.map((h) => pickBest(candidates, h, prefer)?.name ?? "ewma");
}
