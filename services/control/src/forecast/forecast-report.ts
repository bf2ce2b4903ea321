import type { ForecasterName, SeriesContext } from "./forecaster.js";
import { PER_SERIES_FORECASTERS } from "./forecaster.js";
import { buildDesign, resolveFeatureOptions, sliceContext, type FeatureOptions } from "./features.js";
import { rankFeatures, selectFeatures, type FeatureImportance, type RankOptions, type SelectOptions } from "./feature-selection.js";
import { createForecaster, type PersistableForecaster } from "./model-codec.js";
import type { ForestOptions } from "./random-forest-forecaster.js";
import { DEFAULT_ROLLING_OPTIONS, pickBest, rollingOrigin, type ModelScore, type Preference } from "./rolling-origin.js";
import { pooledLookback } from "./pooled-features.js";
import type { PooledLinearModel } from "./global-linear-forecaster.js";
import { ErrorStats } from "./metrics.js";

/** One series to forecast: the target metric plus, optionally, its sample times and sibling metrics (all aligned). */
export interface SeriesHistory {
  /** Target metric name (`cpu`, `mem`, ...); names features and picks the EWMA α. */
  metric: string;
  values: readonly number[];
  t?: readonly number[];
  covariates?: Readonly<Record<string, readonly number[]>>;
}

export interface ForecastReportOptions {
  /** Steps to forecast (and to validate). */
  horizon: number;
  models: readonly ForecasterName[];
  /** Rolling-origin refits. */
  folds: number;
  /** Samples the first validation fit sees; default half the history. */
  minTrain?: number;
  /** Horizon whose validation MAE picks the model; default: mean over 1..horizon. */
  chooseAt?: number;
  /** Only the latest samples are used (bounds cost for long histories). */
  maxHistory: number;
  backtestPoints: number;
  backtestHorizon: number;
  features?: Partial<FeatureOptions>;
  forest?: Partial<ForestOptions>;
  rank?: Partial<RankOptions>;
  select?: Partial<SelectOptions>;
  /** Feature selection on or off (off: models use every feature). */
  selectFeatures: boolean;
  /** Rank the features even without selecting them (a diagnostic for `herd forecast --explain`). */
  rankFeatures?: boolean;
  /**
   * A model fitted across the fleet (`fitPooledLinear`): makes `global-linear` a candidate (added
   * to the default models) and, unless `prefer` says otherwise, the preferred one. It was
   * usually trained on this series too, so its validation error is slightly optimistic.
   */
  pooled?: PooledLinearModel;
  /** Keep this model unless another validates better by more than the margin. */
  prefer?: Preference;
}

/** With a pooled model, per-series models must validate this much better to replace it (see bench/results/forecast.md). */
export const DEFAULT_POOLED_PREFERENCE: Preference = { name: "global-linear", margin: 0.05 };

export const DEFAULT_REPORT_OPTIONS: ForecastReportOptions = {
  horizon: 6,
  models: PER_SERIES_FORECASTERS,
  folds: 3,
  maxHistory: 600,
  backtestPoints: 24,
  backtestHorizon: 1,
  selectFeatures: true,
};

export interface ModelReport {
  name: ForecasterName;
  /** False when the model could not learn from this history (it then forecasts with its fallback). */
  available: boolean;
  reason?: string;
  forecast: number[];
  validation: ModelScore;
}

export interface BacktestPoint {
  index: number;
  t?: number;
  actual: number;
  forecasts: Partial<Record<ForecasterName, number>>;
}

export interface ForecastReport {
  metric: string;
  points: number;
  horizon: number;
  /** Feature importances (permutation, random forest, 1 step ahead unless chooseAt), best first; empty if too little data. */
  ranking: FeatureImportance[];
  /** Features the learned models were trained on. */
  selected: string[];
  models: ModelReport[];
  chosen: { name: ForecasterName; reason: string };
  /** The chosen model's forecast for the next `horizon` steps. */
  forecast: number[];
  validation: { firstOrigin: number; lastOrigin: number; folds: number } | undefined;
  backtest: { horizon: number; points: BacktestPoint[]; mae: Partial<Record<ForecasterName, number>> };
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : "n/a");

/**
 * Everything `herd forecast <container> --explain` shows for one series, as plain data: each
 * model's forecast and rolling-origin error, which model is chosen and why, the feature ranking,
 * and a backtest (forecast next to what happened). Pure: a function of the history only.
 */
export function forecastReport(history: SeriesHistory, options: Partial<ForecastReportOptions> = {}): ForecastReport {
  const o = { ...DEFAULT_REPORT_OPTIONS, ...options };
  if (o.pooled && options.models === undefined) o.models = [...PER_SERIES_FORECASTERS, "global-linear"];
  const prefer = o.prefer ?? (o.pooled && o.models.includes("global-linear") ? DEFAULT_POOLED_PREFERENCE : undefined);
  const H = o.horizon;
  if (!(Number.isInteger(H) && H >= 1)) throw new RangeError(`horizon must be an integer ≥ 1, got ${H}`);
  const n0 = history.values.length;
  const from = Math.max(0, n0 - o.maxHistory);
  const values = history.values.slice(from);
  const ctx = sliceContext({ ...(history.t ? { t: history.t } : {}), ...(history.covariates ? { covariates: history.covariates } : {}) }, from, n0);
  const n = values.length;
  const feat = resolveFeatureOptions({ ...o.features, target: history.metric });
  const horizons = Array.from({ length: H }, (_, i) => i + 1);

  // Feature ranking and selection on the whole (bounded) history.
  let ranking: FeatureImportance[] = [];
  let selected: string[] | undefined;
  const design = buildDesign(values, o.chooseAt ?? 1, feat, ctx);
  if ((o.selectFeatures || o.rankFeatures) && design.X.length >= 30) {
    ranking = rankFeatures(design, { ...o.rank, ...(o.forest ? { forest: { ...(o.rank?.forest ?? {}), ...o.forest } as ForestOptions } : {}) });
    if (o.selectFeatures) selected = selectFeatures(ranking, o.select);
  }
  const make = (name: ForecasterName) => () =>
    createForecaster(name, {
      metric: history.metric,
      features: feat,
      horizons,
      ...(selected ? { selected } : {}),
      ...(o.forest ? { forest: o.forest } : {}),
      ...(o.pooled ? { pooled: o.pooled } : {}),
    });
  const factories = Object.fromEntries(o.models.map((m) => [m, make(m)]));
  // The pooled model's periodic features look back whole cycles: validation hands it as much as the live loop does.
  const recentWindows = o.pooled ? { "global-linear": Math.max(DEFAULT_ROLLING_OPTIONS.recentWindow, pooledLookback(o.pooled.features)) } : {};
  const ro = rollingOrigin(values, ctx, factories, { horizons, folds: o.folds, recentWindows, ...(o.minTrain !== undefined ? { minTrain: o.minTrain } : {}) });

  // Final fit on everything: this is what forecasts the future.
  const finals = new Map<ForecasterName, PersistableForecaster>();
  const models: ModelReport[] = o.models.map((name) => {
    const f = make(name)();
    f.fit(values, ctx);
    finals.set(name, f);
    const reason = (f as { reason?: string }).reason;
    const validation = ro.scores.find((s) => s.name === name)!;
    return { name, available: reason === undefined, ...(reason !== undefined ? { reason } : {}), forecast: f.predict(values, H, ctx), validation };
  });

  const chosen = choose(models, ro.origins !== undefined, n, o.chooseAt, H, prefer);
  const backtest = runBacktest(values, ctx, history.t ? history.t.slice(from) : undefined, make, o);
  return {
    metric: history.metric,
    points: n,
    horizon: H,
    ranking,
    selected: selected ?? (finals.get("linear") as { features?: readonly string[] } | undefined)?.features?.slice() ?? design.names,
    models,
    chosen,
    forecast: models.find((m) => m.name === chosen.name)?.forecast ?? [],
    validation: ro.origins ? { firstOrigin: ro.origins.first, lastOrigin: ro.origins.last, folds: ro.origins.folds } : undefined,
    backtest,
  };
}

function choose(
  models: readonly ModelReport[],
  validated: boolean,
  n: number,
  chooseAt: number | undefined,
  H: number,
  prefer: Preference | undefined,
): { name: ForecasterName; reason: string } {
  const baseline: ForecasterName = models.some((m) => m.name === "ewma") ? "ewma" : (models[0]?.name ?? "ewma");
  const at = chooseAt === undefined ? `mean over h=1..${H}` : `h=${chooseAt}`;
  if (!validated) {
    return { name: baseline, reason: `only ${n} samples: too few for rolling-origin validation at horizon ${H}; using the ${baseline} baseline` };
  }
  const unavailable = models.filter((m) => !m.available);
  const candidates = models.filter((m) => m.available && m.validation.fallbackFolds === 0);
  const best = pickBest(
    candidates.map((m) => m.validation),
    chooseAt,
    prefer,
  );
  if (!best) return { name: baseline, reason: `no model could be scored; using the ${baseline} baseline` };
  const key = (s: ModelScore) => (chooseAt === undefined ? s.mae : (s.perHorizon.find((p) => p.horizon === chooseAt)?.mae ?? NaN));
  const others = candidates.filter((m) => m.name !== best.name).map((m) => `${m.name} ${fmt(key(m.validation))}`);
  const skipped = [
    ...unavailable.map((m) => `${m.name} skipped: ${m.reason}`),
    ...models
      .filter((m) => m.available && m.validation.fallbackFolds > 0)
      .map((m) => `${m.name} skipped: too little history in ${m.validation.fallbackFolds} validation fold(s)`),
  ];
  return {
    name: best.name,
    reason:
      (prefer && best.name === prefer.name
        ? `${best.name} preferred unless another model's rolling-origin MAE (${at}) is lower by > ${(100 * prefer.margin).toFixed(0)} %: ${best.name} ${fmt(key(best))}`
        : `lowest rolling-origin MAE (${at}): ${best.name} ${fmt(key(best))}`) +
      (others.length ? ` vs ${others.join(", ")}` : "") +
      (skipped.length ? `; ${skipped.join("; ")}` : ""),
  };
}

function runBacktest(
  values: readonly number[],
  ctx: SeriesContext | undefined,
  t: readonly number[] | undefined,
  make: (name: ForecasterName) => () => PersistableForecaster,
  o: ForecastReportOptions,
): ForecastReport["backtest"] {
  const h = o.backtestHorizon;
  const n = values.length;
  // Keep at least half the history for the fit.
  const N = Math.max(0, Math.min(o.backtestPoints, n - h - Math.ceil(n / 2)));
  const points: BacktestPoint[] = [];
  const mae: Partial<Record<ForecasterName, number>> = {};
  if (N === 0) return { horizon: h, points, mae };
  const fitEnd = n - N - h + 1; // last origin seen by the fit is fitEnd − 1
  for (let j = n - N; j < n; j++) points.push({ index: j, ...(t ? { t: t[j]! } : {}), actual: values[j]!, forecasts: {} });
  for (const name of o.models) {
    const f = make(name)();
    f.fit(values.slice(0, fitEnd), sliceContext(ctx, 0, fitEnd));
    const st = new ErrorStats();
    for (const p of points) {
      const origin = p.index - h;
      const from = Math.max(0, origin + 1 - 96);
      const v = f.predict(values.slice(from, origin + 1), h, sliceContext(ctx, from, origin + 1))[h - 1]!;
      p.forecasts[name] = v;
      st.add(v, p.actual);
    }
    mae[name] = st.mae;
  }
  return { horizon: h, points, mae };
}
