/**
 * Features of the pooled (cross-series) model: robust statistics of the target (rolling medians
 * next to means), so one model fits every container — the shape of "a spike mostly falls back"
 * is shared. Two optional families are shared by a group too:
 * - periodic: with a `period` (samples; found by `detectPeriod` on the group's histories), the
 *   seasonal profile at the phases of the next `periodHorizon` steps (mean over the last
 *   `periodCycles` cycles, ±1 sample), relative to the latest value, plus the share of those
 *   cycles seen. A lag-at-period feature, written so one model fits series of any level and
 *   phase (the phase is the series' own past, not the clock).
 * - covariates: for each named metric every series of the group has (e.g. memory next to CPU),
 *   its latest value, last change and distance from its 12-sample mean.
 * Windows shorter than the available history are truncated, so a row exists from `minRecent`
 * samples on.
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
  /** Samples per cycle for the periodic features; 0: none. */
  period: number;
  /** Cycles averaged into the seasonal profile. */
  periodCycles: number;
  /** Steps ahead (1..periodHorizon, and 0) that get a seasonal-profile column. */
  periodHorizon: number;
  /** Covariate names (sorted); every series fitted or forecast must have each of them. */
  covariates: string[];
}

export const DEFAULT_POOLED_FEATURES: PooledFeatureOptions = {
  lags: 4,
  windows: [6, 12, 24, 48, 96],
  stdWindows: [12, 48],
  ewmaAlpha: 0.7,
  minRecent: 12,
  period: 0,
  periodCycles: 2,
  periodHorizon: 6,
  covariates: [],
};

export function resolvePooledFeatures(opts: Partial<PooledFeatureOptions> = {}): PooledFeatureOptions {
  const o = { ...DEFAULT_POOLED_FEATURES, ...opts };
  if (!(Number.isInteger(o.lags) && o.lags >= 1)) throw new RangeError(`lags must be an integer ≥ 1, got ${o.lags}`);
  for (const w of [...o.windows, ...o.stdWindows]) if (!(Number.isInteger(w) && w >= 2)) throw new RangeError(`windows must be integers ≥ 2, got ${w}`);
  if (!(o.ewmaAlpha > 0 && o.ewmaAlpha <= 1)) throw new RangeError(`ewmaAlpha must be in (0, 1], got ${o.ewmaAlpha}`);
  if (!(Number.isInteger(o.minRecent) && o.minRecent >= o.lags)) throw new RangeError(`minRecent must be an integer ≥ lags, got ${o.minRecent}`);
  if (!(Number.isInteger(o.period) && (o.period === 0 || o.period >= 2))) throw new RangeError(`period must be 0 or an integer ≥ 2, got ${o.period}`);
  if (!(Number.isInteger(o.periodCycles) && o.periodCycles >= 1)) throw new RangeError(`periodCycles must be an integer ≥ 1, got ${o.periodCycles}`);
  if (!(Number.isInteger(o.periodHorizon) && o.periodHorizon >= 0)) throw new RangeError(`periodHorizon must be an integer ≥ 0, got ${o.periodHorizon}`);
  return { ...o, covariates: [...new Set(o.covariates)].sort() };
}

/** Samples the widest feature looks back; older history does not change a row. */
export function pooledLookback(o: PooledFeatureOptions): number {
  return Math.max(o.lags, o.minRecent, ...o.windows, ...o.stdWindows, o.period > 0 ? o.period * o.periodCycles + 2 : 0);
}

export function pooledFeatureNames(o: PooledFeatureOptions): string[] {
  const names: string[] = [];
  for (let k = 0; k < o.lags; k++) names.push(`lag${k}`);
  names.push("ewma");
  for (const w of o.windows) names.push(`mean${w}`, `median${w}`);
  for (const w of o.stdWindows) names.push(`std${w}`);
  if (o.period > 0) {
    for (let k = 0; k <= o.periodHorizon; k++) names.push(`season${o.period}+${k}`);
    names.push(`seasonSeen${o.period}`);
  }
  for (const c of o.covariates) names.push(`${c}:lag0`, `${c}:diff1`, `${c}:vsMean12`);
  return names;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  const m = n >> 1;
  return n % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** Covariates aligned with the target series (same length, same last sample). */
export type PooledCovariates = Readonly<Record<string, readonly number[]>>;

/**
 * The pooled feature row at origin `i` (latest observed index), from samples ≤ i only.
 * Requires i ≥ minRecent − 1 and every covariate the options name; columns follow
 * `pooledFeatureNames`.
 */
export function pooledFeatureRow(s: readonly number[], i: number, o: PooledFeatureOptions, covariates?: PooledCovariates): number[] {
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
  if (o.period > 0) {
    // Seasonal profile at the phase of i+k: mean of samples j-1..j+1 (never after i) for
    // j = i+k−P, i+k−2P, … over `periodCycles` cycles; 0 (no information) where none were seen.
    let seen = 0;
    for (let k = 0; k <= o.periodHorizon; k++) {
      let sum = 0;
      let n = 0;
      let cycles = 0;
      for (let c = 1; c <= o.periodCycles; c++) {
        const j = i + k - c * o.period;
        if (j < 0) break;
        cycles++;
        for (let d = -1; d <= 1; d++) {
          if (j + d >= 0 && j + d <= i) {
            sum += s[j + d]!;
            n++;
          }
        }
      }
      row.push(n ? sum / n - s[i]! : 0);
      if (k === 0) seen = cycles / o.periodCycles;
    }
    row.push(seen);
  }
  for (const name of o.covariates) {
    const c = covariates?.[name];
    if (!c || c.length !== s.length)
      throw new RangeError(`covariate ${name} missing or not aligned with the series (${c?.length ?? 0} vs ${s.length} samples)`);
    const n = Math.min(12, i + 1);
    let sum = 0;
    for (let j = 0; j < n; j++) sum += c[i - j]!;
    row.push(c[i]!, i > 0 ? c[i]! - c[i - 1]! : 0, c[i]! - sum / n);
  }
  return row;
}

/**
 * The period (samples per cycle) the group's histories share, or 0 when there is none: the
 * shortest lag in [minLag, maxLag] where the mean autocorrelation over the series peaks (at
 * least `minPeak`) after a dip (rising at least `minRise` above the lowest autocorrelation at a
 * shorter lag, and within 10 % of the largest such rise): a slowly decaying series has its
 * maximum at `minLag` and no cycle. Each series counts
 * only at lags up to half its length (two cycles seen), over its newest 4 × maxLag samples.
 */
export function detectPeriod(
  histories: readonly (readonly number[])[],
  opts: { minLag?: number; maxLag?: number; minPeak?: number; minRise?: number } = {},
): number {
  const minLag = opts.minLag ?? 12;
  // Two days of 5-minute samples: daily cycles; the cost is O(samples × lags) per series.
  const maxLag = opts.maxLag ?? 576;
  const minPeak = opts.minPeak ?? 0.2;
  const minRise = opts.minRise ?? 0.1;
  const sums = new Float64Array(maxLag + 1);
  const counts = new Uint32Array(maxLag + 1);
  for (const full of histories) {
    // The newest four cycles of the longest lag are plenty to see a cycle.
    const s = full.length > 4 * maxLag ? full.slice(-4 * maxLag) : full;
    const n = s.length;
    const top = Math.min(maxLag, Math.floor(n / 2));
    if (top < minLag) continue;
    let mean = 0;
    for (const v of s) mean += v;
    mean /= n;
    let variance = 0;
    for (const v of s) variance += (v - mean) ** 2;
    if (variance <= 0) continue;
    for (let L = minLag; L <= top; L++) {
      let c = 0;
      for (let t = L; t < n; t++) c += (s[t]! - mean) * (s[t - L]! - mean);
      sums[L] = sums[L]! + c / variance;
      counts[L] = counts[L]! + 1;
    }
  }
  // A cycle shows as a peak that rises above the dip before it: rise(L) = acf(L) − min acf at
  // shorter lags. Slow decay (the usual shape of utilization) never rises. Among the local peaks
  // that rise at least 90 % as much as the best one, the shortest lag wins (not a multiple of it).
  const acfAt = (L: number) => (counts[L] ? sums[L]! / counts[L]! : NaN);
  const rise = new Float64Array(maxLag + 2).fill(-Infinity);
  let lowest = Infinity;
  let bestRise = -Infinity;
  for (let L = minLag; L <= maxLag; L++) {
    const acf = acfAt(L);
    if (Number.isNaN(acf)) continue;
    rise[L] = acf - lowest;
    lowest = Math.min(lowest, acf);
  }
  const isPeak = (L: number) => {
    for (let d = 1; d <= 3; d++) if (acfAt(L - d) > acfAt(L) || acfAt(L + d) > acfAt(L)) return false;
    return true;
  };
  for (let L = minLag + 1; L <= maxLag; L++) if (acfAt(L) >= minPeak && isPeak(L)) bestRise = Math.max(bestRise, rise[L]!);
  if (!(bestRise >= minRise)) return 0;
  for (let L = minLag + 1; L <= maxLag; L++) if (acfAt(L) >= minPeak && isPeak(L) && rise[L]! >= 0.9 * bestRise) return L;
  return 0;
}
