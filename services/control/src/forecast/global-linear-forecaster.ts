import { ValidationError } from "../../../../shared/src/errors.js";
import type { Forecaster, SeriesContext } from "./forecaster.js";
import { EwmaForecaster } from "./baselines.js";
import { seededRandom } from "./feature-selection.js";
import {
  detectPeriod,
  pooledFeatureNames,
  pooledFeatureRow,
  resolvePooledFeatures,
  type PooledCovariates,
  type PooledFeatureOptions,
} from "./pooled-features.js";
import { fitRidge, fitRidgeAbsolute, predictRidge, type RidgeModel } from "./ridge.js";

/**
 * One linear model per horizon fitted on many series at once (plain data, JSON as is). Each
 * predicts the change `y[o+h] − y[o]` from the pooled features at origin `o`.
 */
export interface PooledLinearModel {
  kind: "herd-pooled-linear";
  version: 1;
  features: PooledFeatureOptions;
  columns: string[];
  loss: "absolute" | "squared";
  models: { horizon: number; ridge: RidgeModel }[];
  trainedOn: { series: number; rows: number };
}

export interface PooledFitOptions {
  /** Horizons that get their own model (direct strategy). */
  horizons: readonly number[];
  features: Partial<PooledFeatureOptions>;
  /**
   * `absolute` (default) fits the conditional median: utilization is spiky, and the median is
   * what a MAE-judged forecast should aim at. Per series (~190 rows) that was too noisy; pooled
   * over thousands of series it is not.
   */
  loss: "absolute" | "squared";
  /** Ridge penalty on standardized features (per row); rows are plentiful, so small. */
  lambda: number;
  /** IRLS passes of the absolute loss. */
  iterations: number;
  /** At most this many (series, origin) rows, drawn with `seed`: bounds fit time for large fleets. */
  maxRows: number;
  seed: number;
  /**
   * Without an explicit `features.period`: look for a cycle the histories share (`detectPeriod`)
   * and add the periodic features when there is one.
   */
  detectPeriod: boolean;
  /**
   * Other metrics of each series, aligned with `histories` (same length). Without an explicit
   * `features.covariates`, the model uses every name all series have.
   */
  covariates?: readonly (PooledCovariates | undefined)[];
}

export const DEFAULT_POOLED_FIT: PooledFitOptions = {
  horizons: [1, 2, 3, 4, 5, 6],
  features: {},
  loss: "absolute",
  lambda: 1e-3,
  iterations: 10,
  maxRows: 50_000,
  seed: 17,
  detectPeriod: true,
};

/** Covariate names every series has, aligned with its target (sorted). */
function sharedCovariates(histories: readonly (readonly number[])[], covariates: readonly (PooledCovariates | undefined)[] | undefined): string[] {
  if (!covariates || histories.length === 0) return [];
  let names: string[] | undefined;
  histories.forEach((s, k) => {
    const c = covariates[k] ?? {};
    const here = Object.keys(c).filter((n) => c[n]!.length === s.length);
    names = names === undefined ? here : names.filter((n) => here.includes(n));
  });
  return (names ?? []).sort();
}

/**
 * Fits the pooled model on every series' history (oldest first; each series may have its own
 * length). Only what is passed in is seen: to validate without look-ahead, pass histories cut at
 * the validation origin. Returns undefined when there are too few rows to learn anything
 * (fewer than 2 per feature).
 */
export function fitPooledLinear(histories: readonly (readonly number[])[], opts: Partial<PooledFitOptions> = {}): PooledLinearModel | undefined {
  const o = { ...DEFAULT_POOLED_FIT, ...opts };
  const horizons = [...new Set(o.horizons)].sort((a, b) => a - b);
  if (horizons.length === 0 || horizons.some((h) => !(Number.isInteger(h) && h >= 1))) {
    throw new RangeError(`horizons must be integers ≥ 1, got ${JSON.stringify(o.horizons)}`);
  }
  if (o.covariates && o.covariates.length !== histories.length)
    throw new RangeError(`covariates: ${o.covariates.length} entries for ${histories.length} histories`);
  const features = resolvePooledFeatures({
    ...o.features,
    period: o.features.period ?? (o.detectPeriod ? detectPeriod(histories) : 0),
    periodHorizon: o.features.periodHorizon ?? horizons[horizons.length - 1]!,
    covariates: o.features.covariates ?? sharedCovariates(histories, o.covariates),
  });
  const columns = pooledFeatureNames(features);
  // Every (series, origin) with at least one target ahead; a seeded subset when there are too many.
  const pairs: [number, number][] = [];
  histories.forEach((s, k) => {
    for (let i = features.minRecent - 1; i + horizons[0]! < s.length; i++) pairs.push([k, i]);
  });
  let chosen = pairs;
  if (pairs.length > o.maxRows) {
    const rnd = seededRandom(o.seed);
    const idx = pairs.map((_, j) => j);
    for (let j = 0; j < o.maxRows; j++) {
      const r = j + Math.floor(rnd() * (idx.length - j));
      [idx[j], idx[r]] = [idx[r]!, idx[j]!];
    }
    chosen = idx
      .slice(0, o.maxRows)
      .sort((a, b) => a - b)
      .map((j) => pairs[j]!);
  }
  const rows = chosen.map(([k, i]) => pooledFeatureRow(histories[k]!, i, features, o.covariates?.[k]));
  const models: PooledLinearModel["models"] = [];
  let used = 0;
  for (const h of horizons) {
    const X: number[][] = [];
    const y: number[] = [];
    chosen.forEach(([k, i], r) => {
      const s = histories[k]!;
      if (i + h < s.length) {
        X.push(rows[r]!);
        y.push(s[i + h]! - s[i]!);
      }
    });
    if (X.length < 2 * columns.length) continue;
    const meanAbs = y.reduce((a, v) => a + Math.abs(v), 0) / y.length;
    const ridge = o.loss === "absolute" ? fitRidgeAbsolute(X, y, o.lambda, o.iterations, Math.max(1e-6, 0.01 * meanAbs)) : fitRidge(X, y, o.lambda);
    models.push({ horizon: h, ridge });
    used = Math.max(used, X.length);
  }
  if (models.length === 0) return undefined;
  return { kind: "herd-pooled-linear", version: 1, features, columns, loss: o.loss, models, trainedOn: { series: histories.length, rows: used } };
}

/**
 * The pooled model's forecast for one series from its latest samples (and its covariates, when
 * the model uses some); undefined when there are too few samples or a covariate is missing.
 */
export function predictPooled(
  m: PooledLinearModel,
  recent: readonly number[],
  horizon: number,
  floor = 0,
  covariates?: PooledCovariates,
): number[] | undefined {
  const i = recent.length - 1;
  if (i < m.features.minRecent - 1) return undefined;
  if (m.features.covariates.some((c) => covariates?.[c]?.length !== recent.length)) return undefined;
  const row = pooledFeatureRow(recent, i, m.features, covariates);
  const cache = new Map<number, number>();
  const out: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const model = m.models.find((x) => x.horizon >= h) ?? m.models[m.models.length - 1]!;
    let delta = cache.get(model.horizon);
    if (delta === undefined) {
      delta = predictRidge(model.ridge, row);
      cache.set(model.horizon, delta);
    }
    const v = recent[i]! + delta;
    out.push(Number.isFinite(v) ? Math.max(floor, v) : recent[i]!);
  }
  return out;
}

export interface GlobalLinearForecasterOptions {
  /** The fleet-wide model (from `fitPooledLinear`); without it this forecaster is EWMA and says so. */
  pooled?: PooledLinearModel;
  floor?: number;
  /** α of the EWMA fallback (0.7 CPU, 0.8 memory as in ResCoin). */
  fallbackAlpha?: number;
}

export interface GlobalLinearJSON {
  kind: "herd-forecaster";
  version: 1;
  name: "global-linear";
  floor: number;
  fallbackAlpha: number;
  pooled?: PooledLinearModel;
}

/**
 * Forecasts one series with a model learned across many (`fitPooledLinear`). A series' own ~200
 * samples are too few to learn how far a spike falls back; thousands of series together are
 * not. `fit` learns nothing per series: the pooled model is trained by whoever sees the fleet.
 */
export class GlobalLinearForecaster implements Forecaster {
  readonly name = "global-linear" as const;
  readonly pooled: PooledLinearModel | undefined;
  private readonly floor: number;
  private readonly fallback: EwmaForecaster;
  /** Why this forecaster answers with its EWMA fallback; undefined when it has a pooled model. */
  reason: string | undefined;
  lastPredictReason: string | undefined;

  constructor(opts: GlobalLinearForecasterOptions = {}) {
    this.pooled = opts.pooled;
    this.floor = opts.floor ?? 0;
    this.fallback = new EwmaForecaster(opts.fallbackAlpha ?? 0.7);
    this.reason = this.pooled ? undefined : `no pooled model trained: global-linear needs one fitted across series; using ewma α=${this.fallback.alpha}`;
  }

  /** Nothing to learn per series (the contract allows repeated fits). */
  fit(_history: readonly number[], _context?: SeriesContext): void {}

  predict(recent: readonly number[], horizon: number, context?: SeriesContext): number[] {
    const fc = this.pooled ? predictPooled(this.pooled, recent, horizon, this.floor, context?.covariates) : undefined;
    const missing = this.pooled?.features.covariates.filter((c) => context?.covariates?.[c]?.length !== recent.length) ?? [];
    this.lastPredictReason = fc
      ? undefined
      : (this.reason ??
        (missing.length
          ? `covariates ${missing.join(", ")} missing; using ewma`
          : `only ${recent.length} recent samples, pooled features need ${this.pooled!.features.minRecent}; using ewma`));
    return fc ?? this.fallback.predict(recent, horizon);
  }

  toJSON(): GlobalLinearJSON {
    return {
      kind: "herd-forecaster",
      version: 1,
      name: "global-linear",
      floor: this.floor,
      fallbackAlpha: this.fallback.alpha,
      ...(this.pooled ? { pooled: this.pooled } : {}),
    };
  }

  static fromJSON(json: GlobalLinearJSON): GlobalLinearForecaster {
    const p = json.pooled;
    if (p !== undefined && (p.kind !== "herd-pooled-linear" || p.version !== 1 || !Array.isArray(p.models) || p.models.length === 0)) {
      throw new ValidationError("model.pooled", "saved pooled model is not a herd-pooled-linear v1 model");
    }
    return new GlobalLinearForecaster({
      floor: json.floor,
      fallbackAlpha: json.fallbackAlpha,
      ...(p ? { pooled: { ...p, features: resolvePooledFeatures(p.features) } } : {}),
    });
  }
}
