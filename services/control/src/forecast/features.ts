import type { SeriesContext } from "./forecaster.js";

/** How the design matrix is built from a series' history. All windows count samples. */
export interface FeatureOptions {
  /** Name used as the prefix of the target's own features (e.g. `cpu` → `cpu.lag0`). */
  target: string;
  /** Lagged values `lag0` (the latest sample) .. `lag{lags-1}`. */
  lags: number;
  /** Rolling mean / std / max over these windows, ending at the latest sample. */
  windows: number[];
  /** Least-squares slope over this many latest samples (units per step). */
  trendWindow: number;
  /** Each covariate contributes its latest value, its change over one step and its mean over the first window. */
  covariates: boolean;
  /** sin/cos of the time of day of the forecast origin, when sample times are known. */
  timeOfDay: boolean;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  target: "y",
  lags: 6,
  windows: [6, 12, 24],
  trendWindow: 12,
  covariates: true,
  timeOfDay: true,
};

const DAY_SECONDS = 86_400;

/** The design for one horizon: row r holds the features at origin `origins[r]` and y = series[origin + h]. */
export interface Design {
  names: string[];
  X: number[][];
  y: number[];
  /** The series' value at each origin: the models learn `y − base`, so they start from "no change". */
  base: number[];
  origins: number[];
}

export function resolveFeatureOptions(opts: Partial<FeatureOptions> = {}): FeatureOptions {
  const o = { ...DEFAULT_FEATURE_OPTIONS, ...opts };
  if (!(Number.isInteger(o.lags) && o.lags >= 1)) throw new RangeError(`lags must be an integer ≥ 1, got ${o.lags}`);
  for (const w of [...o.windows, o.trendWindow]) {
    if (!(Number.isInteger(w) && w >= 2)) throw new RangeError(`feature windows must be integers ≥ 2, got ${w}`);
  }
  return o;
}

/** Samples needed before the first origin with a complete feature row. */
export function featureWarmup(o: FeatureOptions): number {
  return Math.max(o.lags, o.trendWindow, ...o.windows, 2);
}

function covariateNames(ctx: SeriesContext | undefined, o: FeatureOptions): string[] {
  return o.covariates && ctx?.covariates ? Object.keys(ctx.covariates).sort() : [];
}

function hasTime(ctx: SeriesContext | undefined, o: FeatureOptions): boolean {
  return o.timeOfDay && ctx?.t !== undefined;
}

/** Names of the columns `featureRow` produces for this context, in order. */
export function featureNames(o: FeatureOptions, ctx?: SeriesContext): string[] {
  const p = o.target;
  const names: string[] = [];
  for (let k = 0; k < o.lags; k++) names.push(`${p}.lag${k}`);
  for (const w of o.windows) names.push(`${p}.mean${w}`, `${p}.std${w}`, `${p}.max${w}`);
  names.push(`${p}.slope${o.trendWindow}`);
  if (hasTime(ctx, o)) names.push("tod.sin", "tod.cos");
  const w0 = o.windows[0] ?? 6;
  for (const c of covariateNames(ctx, o)) names.push(`${c}.lag0`, `${c}.diff1`, `${c}.mean${w0}`);
  return names;
}

function windowStats(s: readonly number[], end: number, w: number): { mean: number; std: number; max: number } {
  let sum = 0;
  let sq = 0;
  let max = -Infinity;
  for (let j = end - w + 1; j <= end; j++) {
    const v = s[j]!;
    sum += v;
    sq += v * v;
    if (v > max) max = v;
  }
  const mean = sum / w;
  return { mean, std: Math.sqrt(Math.max(0, sq / w - mean * mean)), max };
}

/** Least-squares slope of the last `w` samples ending at `end`. */
function slope(s: readonly number[], end: number, w: number): number {
  const xm = (w - 1) / 2;
  let num = 0;
  let den = 0;
  let ym = 0;
  for (let j = 0; j < w; j++) ym += s[end - w + 1 + j]!;
  ym /= w;
  for (let j = 0; j < w; j++) {
    num += (j - xm) * (s[end - w + 1 + j]! - ym);
    den += (j - xm) * (j - xm);
  }
  return num / den;
}

/**
 * The feature row at origin `i` (the latest observed index), using only samples ≤ i. Requires
 * i ≥ featureWarmup − 1; columns follow `featureNames`.
 */
export function featureRow(series: readonly number[], i: number, o: FeatureOptions, ctx?: SeriesContext): number[] {
  if (i < featureWarmup(o) - 1 || i >= series.length) {
    throw new RangeError(`origin ${i} outside [${featureWarmup(o) - 1}, ${series.length - 1}]`);
  }
  const row: number[] = [];
  for (let k = 0; k < o.lags; k++) row.push(series[i - k]!);
  for (const w of o.windows) {
    const st = windowStats(series, i, w);
    row.push(st.mean, st.std, st.max);
  }
  row.push(slope(series, i, o.trendWindow));
  if (hasTime(ctx, o)) {
    const phase = (2 * Math.PI * (((ctx!.t![i]! % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS)) / DAY_SECONDS;
    row.push(Math.sin(phase), Math.cos(phase));
  }
  const w0 = o.windows[0] ?? 6;
  for (const c of covariateNames(ctx, o)) {
    const s = ctx!.covariates![c]!;
    if (s.length !== series.length) throw new RangeError(`covariate ${c} has ${s.length} samples, target has ${series.length}`);
    row.push(s[i]!, s[i]! - s[i - 1]!, windowStats(s, i, w0).mean);
  }
  return row;
}

/**
 * Design matrix for predicting `horizon` steps ahead: one row per origin whose target lies in
 * the series. Pure; pass a slice of history to keep future samples out of training.
 */
export function buildDesign(series: readonly number[], horizon: number, o: FeatureOptions, ctx?: SeriesContext): Design {
  if (!(Number.isInteger(horizon) && horizon >= 1)) throw new RangeError(`horizon must be an integer ≥ 1, got ${horizon}`);
  const d: Design = { names: featureNames(o, ctx), X: [], y: [], base: [], origins: [] };
  for (let i = featureWarmup(o) - 1; i + horizon < series.length; i++) {
    d.X.push(featureRow(series, i, o, ctx));
    d.y.push(series[i + horizon]!);
    d.base.push(series[i]!);
    d.origins.push(i);
  }
  return d;
}

/** Keeps the named columns (in the given order); unknown names are an error. */
export function selectColumns(names: readonly string[], X: readonly (readonly number[])[], keep: readonly string[]): number[][] {
  const idx = keep.map((k) => {
    const j = names.indexOf(k);
    if (j < 0) throw new RangeError(`unknown feature "${k}" (have ${names.join(", ")})`);
    return j;
  });
  return X.map((row) => idx.map((j) => row[j]!));
}

/** Restricts a context to samples [from, to) so it stays aligned with `series.slice(from, to)`. */
export function sliceContext(ctx: SeriesContext | undefined, from: number, to: number): SeriesContext | undefined {
  if (!ctx) return undefined;
  const covariates = ctx.covariates ? Object.fromEntries(Object.entries(ctx.covariates).map(([k, v]) => [k, v.slice(from, to)])) : undefined;
  return { ...(covariates ? { covariates } : {}), ...(ctx.t ? { t: ctx.t.slice(from, to) } : {}) };
}
