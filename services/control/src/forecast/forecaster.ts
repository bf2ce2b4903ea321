/**
 * What a forecaster may look at besides the target series: other metrics of the same container
 * or node and the sample times. Every array is aligned index-by-index with the target series
 * passed alongside it (same length, same last sample).
 */
export interface SeriesContext {
  /** Other metrics (e.g. `mem`, `blkio`, `netRx`), used as covariates by the learned models. */
  readonly covariates?: Readonly<Record<string, readonly number[]>>;
  /** Sample times in seconds; enables time-of-day features. */
  readonly t?: readonly number[];
}

/**
 * A forecaster predicts the next values of one utilization series (oldest value first).
 * Contract: `fit` may be called any number of times and replaces what was learned; `predict`
 * works before any `fit` (falling back to a baseline) and returns exactly `horizon` finite values.
 * `context`, when given, is aligned with the series passed in the same call; baselines ignore it.
 * Models that can be persisted expose `toJSON()` (see `model-codec.ts` for loading).
 */
export interface Forecaster {
  readonly name: ForecasterName;
  fit(history: readonly number[], context?: SeriesContext): void;
  predict(recent: readonly number[], horizon: number, context?: SeriesContext): number[];
}

export type ForecasterName = "last" | "ewma" | "linear" | "random-forest" | "global-linear";

export const FORECASTER_NAMES: readonly ForecasterName[] = ["last", "ewma", "linear", "random-forest", "global-linear"];

/** Forecasters that learn from one series alone; `global-linear` also needs a model fitted across series. */
export const PER_SERIES_FORECASTERS: readonly ForecasterName[] = ["last", "ewma", "linear", "random-forest"];
