/**
 * A forecaster predicts the next values of one utilization series (oldest value first).
 * Contract: `fit` may be called any number of times and replaces what was learned; `predict`
 * works before any `fit` (falling back to a baseline) and returns exactly `horizon` finite values.
 * Models that can be persisted expose `toJSON()` / a matching `load` in their module.
 */
export interface Forecaster {
  readonly name: ForecasterName;
  fit(history: readonly number[]): void;
  predict(recent: readonly number[], horizon: number): number[];
}

export type ForecasterName = "last" | "ewma" | "linear" | "random-forest";
