/**
 * The statistics behind Beloglazov & Buyya's overload tests, computed exactly as CloudSim 3.0.3
 * does (Apache Commons Math's legacy percentile for the median, CloudSim's own IQR rounding, an
 * ordinary least-squares line for "local regression", whose tricube weights CloudSim never applies).
 */

/** Apache Commons Math `Percentile` (legacy estimator) on an already sorted array. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0]!;
  const pos = (p * (n + 1)) / 100;
  const fpos = Math.floor(pos);
  const d = pos - fpos;
  if (pos < 1) return sorted[0]!;
  if (pos >= n) return sorted[n - 1]!;
  const lower = sorted[fpos - 1]!;
  const upper = sorted[fpos]!;
  return lower + d * (upper - lower);
}

export function median(data: ArrayLike<number>): number {
  const s = Float64Array.from(data as ArrayLike<number>).sort();
  return percentileSorted(s, 50);
}

/** Median absolute deviation. */
export function mad(data: ArrayLike<number>): number {
  if (data.length === 0) return 0;
  const m = median(data);
  const dev = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) dev[i] = Math.abs(m - data[i]!);
  return median(dev);
}

/** Interquartile range with CloudSim's own quartile positions. */
export function iqr(data: ArrayLike<number>): number {
  const s = Float64Array.from(data as ArrayLike<number>).sort();
  const q1 = Math.floor(0.25 * (s.length + 1) + 0.5) - 1;
  const q3 = Math.floor(0.75 * (s.length + 1) + 0.5) - 1;
  return s[q3]! - s[q1]!;
}

/** OLS fit of y over x = 1..n: returns [intercept, slope]. */
export function olsOnIndex(y: ArrayLike<number>): [number, number] {
  const n = y.length;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += i + 1;
    sy += y[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = i + 1 - mx;
    sxx += dx * dx;
    sxy += dx * (y[i]! - my);
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return [my - b * mx, b];
}
