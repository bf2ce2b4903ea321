/**
 * Features of the pooled (cross-series) model. Unlike `features.ts` they are robust statistics
 * of the target alone (rolling medians next to means, no covariates, no time of day), so one
 * model fits every container: a covariate set or a daily phase differs between containers, the
 * shape of "a spike mostly falls back" does not. Windows shorter than the available history are
 * truncated, so a row exists from `minRecent` samples on.
 */
export interface PooledFeatureOptions {
  /** Latest values `lag0..lag{lags-1}`. */
  lags: number;
  /** Rolling mean and median over these windows (samples, ending at the origin). */
  windows: number[];
  /** Rolling standard deviation over these windows. */
  stdWindows: number[];
  /** α of the EWMA feature (ResCoin's CPU α: the pooled model learns how to correct it). */
  ewmaAlpha: number;
  /** Fewer samples than this at an origin: no row (and the forecaster falls back to EWMA). */
  minRecent: number;
}

export const DEFAULT_POOLED_FEATURES: PooledFeatureOptions = {
  lags: 4,
  windows: [6, 12, 24, 48, 96],
  stdWindows: [12, 48],
  ewmaAlpha: 0.7,
  minRecent: 12,
};

export function resolvePooledFeatures(opts: Partial<PooledFeatureOptions> = {}): PooledFeatureOptions {
  const o = { ...DEFAULT_POOLED_FEATURES, ...opts };
  if (!(Number.isInteger(o.lags) && o.lags >= 1)) throw new RangeError(`lags must be an integer ≥ 1, got ${o.lags}`);
  for (const w of [...o.windows, ...o.stdWindows]) if (!(Number.isInteger(w) && w >= 2)) throw new RangeError(`windows must be integers ≥ 2, got ${w}`);
  if (!(o.ewmaAlpha > 0 && o.ewmaAlpha <= 1)) throw new RangeError(`ewmaAlpha must be in (0, 1], got ${o.ewmaAlpha}`);
  if (!(Number.isInteger(o.minRecent) && o.minRecent >= o.lags)) throw new RangeError(`minRecent must be an integer ≥ lags, got ${o.minRecent}`);
  return o;
}

/** Samples the widest feature looks back; older history does not change a row. */
export function pooledLookback(o: PooledFeatureOptions): number {
  return Math.max(o.lags, o.minRecent, ...o.windows, ...o.stdWindows);
}

export function pooledFeatureNames(o: PooledFeatureOptions): string[] {
  const names: string[] = [];
  for (let k = 0; k < o.lags; k++) names.push(`lag${k}`);
  names.push("ewma");
  for (const w of o.windows) names.push(`mean${w}`, `median${w}`);
  for (const w of o.stdWindows) names.push(`std${w}`);
  return names;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  const m = n >> 1;
  return n % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/**
 * The pooled feature row at origin `i` (latest observed index), from samples ≤ i only.
 * Requires i ≥ minRecent − 1; columns follow `pooledFeatureNames`.
 */
export function pooledFeatureRow(s: readonly number[], i: number, o: PooledFeatureOptions): number[] {
  if (i < o.minRecent - 1 || i >= s.length) throw new RangeError(`origin ${i} outside [${o.minRecent - 1}, ${s.length - 1}]`);
  const row: number[] = [];
  for (let k = 0; k < o.lags; k++) row.push(s[i - k]!);
  // The EWMA over the same look-back a forecaster's `recent` window holds, seeded like EwmaForecaster.
  const from = Math.max(0, i + 1 - pooledLookback(o));
  let e = s[from]!;
  for (let j = from + 1; j <= i; j++) e = o.ewmaAlpha * s[j]! + (1 - o.ewmaAlpha) * e;
  row.push(e);
  for (const w of o.windows) {
    const n = Math.min(w, i + 1);
    const buf = new Float64Array(n);
    let sum = 0;
    for (let j = 0; j < n; j++) {
      buf[j] = s[i - j]!;
      sum += buf[j]!;
    }
    buf.sort();
    row.push(sum / n, median(buf));
  }
  for (const w of o.stdWindows) {
    const n = Math.min(w, i + 1);
    let sum = 0;
    let sq = 0;
    for (let j = 0; j < n; j++) {
      const v = s[i - j]!;
      sum += v;
      sq += v * v;
    }
    const m = sum / n;
    row.push(Math.sqrt(Math.max(0, sq / n - m * m)));
  }
  return row;
}
