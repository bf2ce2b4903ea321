import type { Forecaster, ForecasterName, SeriesContext } from "./forecaster.js";
import { EwmaForecaster } from "./baselines.js";
import { buildDesign, featureNames, featureRow, featureWarmup, resolveFeatureOptions, type FeatureOptions } from "./features.js";

export interface LearnedForecasterOptions {
  features?: Partial<FeatureOptions>;
  /** Feature subset to train on (e.g. from `selectFeatures`); names missing from the data are ignored. Default: all. */
  selected?: readonly string[];
  /** Horizons that get their own model (direct strategy); other horizons use the nearest trained one above, else the largest. */
  horizons?: readonly number[];
  /** Train on at most this many most recent rows: bounds cost and lets old regimes age out. */
  trainWindow?: number;
  /** Fewer training rows than this → no model for that horizon; predictions fall back to EWMA. */
  minTrainRows?: number;
  /** Forecasts are clamped to at least this (utilization is never negative). */
  floor?: number;
  /** α of the EWMA fallback (0.7 CPU, 0.8 memory/disk as in ResCoin). */
  fallbackAlpha?: number;
}

interface ResolvedOptions {
  features: FeatureOptions;
  selected: string[] | undefined;
  horizons: number[];
  trainWindow: number;
  minTrainRows: number;
  floor: number;
  fallbackAlpha: number;
}

/** Serialized form of every learned forecaster; `state` is the model's own JSON. */
export interface LearnedForecasterJSON<S = unknown> {
  kind: "herd-forecaster";
  version: 1;
  name: ForecasterName;
  options: ResolvedOptions;
  columns: string[];
  allNames: string[];
  /** Present only when the model could not learn (JSON has no undefined). */
  reason?: string;
  models: { horizon: number; state: S }[];
  extra?: unknown;
}

export const DEFAULT_HORIZONS = [1, 2, 3, 4, 5, 6];

/**
 * Shared machinery of the learned forecasters: builds features, trains one model per horizon on
 * the change `y − latest` (so an untrained or shrunk model means "no change", never a jump to
 * the training mean), and falls back to EWMA, saying why, whenever it cannot do better.
 */
export abstract class LearnedForecaster<M, S> implements Forecaster {
  abstract readonly name: ForecasterName;
  protected readonly opts: ResolvedOptions;
  private models: { horizon: number; model: M }[] = [];
  private columns: string[] = [];
  private allNames: string[] = [];
  private columnIdx: number[] = [];
  private readonly fallback: EwmaForecaster;
  /** Why the last `fit` left this forecaster on its EWMA fallback; undefined when it learned. */
  reason: string | undefined = "not fitted yet";
  /** Why the last `predict` used the fallback; undefined when the model answered. */
  lastPredictReason: string | undefined;

  constructor(opts: LearnedForecasterOptions = {}) {
    const horizons = [...new Set(opts.horizons ?? DEFAULT_HORIZONS)].sort((a, b) => a - b);
    if (horizons.length === 0 || horizons.some((h) => !(Number.isInteger(h) && h >= 1))) {
      throw new RangeError(`horizons must be integers ≥ 1, got ${JSON.stringify(opts.horizons)}`);
    }
    this.opts = {
      features: resolveFeatureOptions(opts.features),
      selected: opts.selected ? [...opts.selected] : undefined,
      horizons,
      trainWindow: opts.trainWindow ?? 288,
      minTrainRows: opts.minTrainRows ?? 24,
      floor: opts.floor ?? 0,
      fallbackAlpha: opts.fallbackAlpha ?? 0.7,
    };
    this.fallback = new EwmaForecaster(this.opts.fallbackAlpha);
  }

  protected abstract trainModel(X: number[][], y: number[]): M;
  protected abstract predictModel(model: M, rows: number[][]): number[];
  protected abstract modelToJSON(model: M): S;
  protected abstract modelFromJSON(state: S): M;

  /** Samples of history needed for `minTrainRows` rows at the largest horizon. */
  minHistory(): number {
    return featureWarmup(this.opts.features) - 1 + Math.max(...this.opts.horizons) + this.opts.minTrainRows;
  }

  get trained(): boolean {
    return this.models.length > 0;
  }

  fit(history: readonly number[], context?: SeriesContext): void {
    this.models = [];
    const o = this.opts;
    this.allNames = featureNames(o.features, context);
    const wanted = o.selected?.filter((n) => this.allNames.includes(n));
    this.columns = wanted && wanted.length > 0 ? wanted : this.allNames;
    this.columnIdx = this.columns.map((n) => this.allNames.indexOf(n));
    for (const h of o.horizons) {
      const d = buildDesign(history, h, o.features, context);
      const from = Math.max(0, d.X.length - o.trainWindow);
      if (d.X.length - from < o.minTrainRows) continue;
      const X = d.X.slice(from).map((r) => this.columnIdx.map((j) => r[j]!));
      const y = d.y.slice(from).map((v, r) => v - d.base[from + r]!);
      this.models.push({ horizon: h, model: this.trainModel(X, y) });
    }
    this.reason = this.models.length
      ? undefined
      : `too little history for ${this.name}: ${history.length} samples, needs ≥ ${this.minHistory()} (${o.minTrainRows} training rows after a ${featureWarmup(o.features)}-sample warm-up); using ewma α=${o.fallbackAlpha}`;
  }

  predict(recent: readonly number[], horizon: number, context?: SeriesContext): number[] {
    this.lastPredictReason = undefined;
    const o = this.opts;
    const i = recent.length - 1;
    const names = featureNames(o.features, context);
    const fallbackWhy = !this.trained
      ? this.reason
      : i < featureWarmup(o.features) - 1
        ? `only ${recent.length} recent samples, features need ${featureWarmup(o.features)}; using ewma`
        : names.length !== this.allNames.length || names.some((n, j) => n !== this.allNames[j])
          ? `context has features [${names.join(", ")}] but ${this.name} was trained on [${this.allNames.join(", ")}]; using ewma`
          : undefined;
    if (fallbackWhy !== undefined) {
      this.lastPredictReason = fallbackWhy;
      return this.fallback.predict(recent, horizon);
    }
    const full = featureRow(recent, i, o.features, context);
    const row = this.columnIdx.map((j) => full[j]!);
    const cache = new Map<number, number>();
    const out: number[] = [];
    for (let h = 1; h <= horizon; h++) {
      const m = this.models.find((x) => x.horizon >= h) ?? this.models[this.models.length - 1]!;
      let delta = cache.get(m.horizon);
      if (delta === undefined) {
        delta = this.predictModel(m.model, [row])[0]!;
        cache.set(m.horizon, delta);
      }
      const v = recent[i]! + delta;
      out.push(Number.isFinite(v) ? Math.max(o.floor, v) : recent[i]!);
    }
    return out;
  }

  /** Columns the models were trained on (the selected features present in the data). */
  get features(): readonly string[] {
    return this.columns;
  }

  toJSON(): LearnedForecasterJSON<S> {
    return {
      kind: "herd-forecaster",
      version: 1,
      name: this.name,
      options: this.opts,
      columns: this.columns,
      allNames: this.allNames,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      models: this.models.map((m) => ({ horizon: m.horizon, state: this.modelToJSON(m.model) })),
    };
  }

  /** Restores what `toJSON` saved into this (freshly constructed) instance. */
  protected restore(json: LearnedForecasterJSON<S>): this {
    this.columns = [...json.columns];
    this.allNames = [...json.allNames];
    this.columnIdx = this.columns.map((n) => this.allNames.indexOf(n));
    this.reason = json.reason;
    this.models = json.models.map((m) => ({ horizon: m.horizon, model: this.modelFromJSON(m.state) }));
    return this;
  }
}
