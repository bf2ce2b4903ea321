import type { Forecaster, ForecasterName, SeriesContext } from "./forecaster.js";
import { sliceContext } from "./features.js";
import { ErrorStats } from "./metrics.js";

export interface RollingOriginOptions {
  /** Horizons (steps ahead) to score. */
  horizons: readonly number[];
  /** Refits: the origin range is cut into this many consecutive blocks, each fitted on everything before it. */
  folds: number;
  /** Samples the first fit sees; default half the series. */
  minTrain?: number;
  /** Samples handed to `predict` at each origin (features only look back a few windows). */
  recentWindow: number;
  /** Per-model exceptions to `recentWindow` (the pooled model's periodic features look back whole cycles). */
  recentWindows?: Readonly<Partial<Record<ForecasterName, number>>>;
}

export const DEFAULT_ROLLING_OPTIONS: RollingOriginOptions = { horizons: [1], folds: 3, recentWindow: 96 };

export interface HorizonScore {
  horizon: number;
  mae: number;
  rmse: number;
  count: number;
}

export interface ModelScore {
  name: ForecasterName;
  perHorizon: HorizonScore[];
  /** Mean over the scored horizons. */
  mae: number;
  rmse: number;
  /** Folds in which the model could not learn and answered with its fallback. */
  fallbackFolds: number;
}

export interface RollingOriginResult {
  scores: ModelScore[];
  /** First and last forecast origin (index of the latest observed sample); undefined if none fit. */
  origins: { first: number; last: number; folds: number } | undefined;
}

/** The origin range for a series; undefined when not even one origin leaves room for the largest horizon. */
export function originRange(n: number, maxH: number, minTrain: number): { first: number; last: number } | undefined {
  const first = minTrain - 1;
  const last = n - 1 - maxH;
  return first >= 1 && last >= first ? { first, last } : undefined;
}

/**
 * Rolling-origin (expanding window) validation: for each fold, fit every model on [0, start]
 * and forecast from every origin o in the fold, scoring o+h against what happened. Nothing
 * after an origin is ever seen by its forecast. Models are built fresh per fold by `make`.
 */
export function rollingOrigin(
  series: readonly number[],
  context: SeriesContext | undefined,
  make: Readonly<Partial<Record<ForecasterName, () => Forecaster>>>,
  opts: Partial<RollingOriginOptions> = {},
): RollingOriginResult {
  const o = { ...DEFAULT_ROLLING_OPTIONS, ...opts };
  const horizons = [...o.horizons].sort((a, b) => a - b);
  const maxH = horizons[horizons.length - 1] ?? 1;
  const names = Object.keys(make) as ForecasterName[];
  const stats = new Map(names.map((n) => [n, horizons.map(() => new ErrorStats())]));
  const fallbackFolds = new Map(names.map((n) => [n, 0]));
  const range = originRange(series.length, maxH, o.minTrain ?? Math.floor(series.length / 2));
  if (range) {
    const total = range.last - range.first + 1;
    const folds = Math.max(1, Math.min(o.folds, total));
    for (let f = 0; f < folds; f++) {
      const start = range.first + Math.floor((f * total) / folds);
      const end = range.first + Math.floor(((f + 1) * total) / folds) - 1;
      for (const name of names) {
        const window = o.recentWindows?.[name] ?? o.recentWindow;
        const model = make[name]!();
        model.fit(series.slice(0, start + 1), sliceContext(context, 0, start + 1));
        if ((model as { reason?: string }).reason !== undefined) fallbackFolds.set(name, fallbackFolds.get(name)! + 1);
        const st = stats.get(name)!;
        for (let origin = start; origin <= end; origin++) {
          const from = Math.max(0, origin + 1 - window);
          const fc = model.predict(series.slice(from, origin + 1), maxH, sliceContext(context, from, origin + 1));
          horizons.forEach((h, k) => st[k]!.add(fc[h - 1]!, series[origin + h]!));
        }
      }
    }
  }
  const scores = names.map((name) => {
    const per = stats.get(name)!.map((s, k) => ({ horizon: horizons[k]!, mae: s.mae, rmse: s.rmse, count: s.count }));
    return {
      name,
      perHorizon: per,
      mae: per.reduce((a, p) => a + p.mae, 0) / per.length,
      rmse: per.reduce((a, p) => a + p.rmse, 0) / per.length,
      fallbackFolds: fallbackFolds.get(name)!,
    };
  });
  return { scores, origins: range ? { ...range, folds: Math.max(1, Math.min(o.folds, range.last - range.first + 1)) } : undefined };
}

/** A model to keep unless another validates clearly better (choosing among noisy scores adds error). */
export interface Preference {
  name: ForecasterName;
  /** Another model replaces it only if its MAE is lower by more than this fraction (0.05 = 5 %). */
  margin: number;
}

/**
 * The model with the lowest MAE at `horizon` (or averaged over horizons); ties go to the simpler
 * model (earlier in `scores`). With `prefer`, that model wins unless the best other one beats it
 * by more than the margin.
 */
export function pickBest(scores: readonly ModelScore[], horizon?: number, prefer?: Preference): ModelScore | undefined {
  const key = (s: ModelScore) => (horizon === undefined ? s.mae : (s.perHorizon.find((p) => p.horizon === horizon)?.mae ?? NaN));
  let best: ModelScore | undefined;
  for (const s of scores) if (Number.isFinite(key(s)) && (best === undefined || key(s) < key(best))) best = s;
  const preferred = prefer ? scores.find((s) => s.name === prefer.name && Number.isFinite(key(s))) : undefined;
  if (preferred && best && key(best) >= key(preferred) * (1 - prefer!.margin)) return preferred;
  return best;
}
