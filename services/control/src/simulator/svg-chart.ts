/** A tiny dependency-free SVG writer for the simulator's reports: line, scatter and bar charts. */

export interface Series {
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(2) : v.toExponential(1);

/** A "nice" tick step (1, 2, 2.5 or 5 × 10^k) giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

/** A tick label with just the decimals its step needs (0, 5, 10 — 0.25, 0.5 — 1.0e-5 below 0.001). */
export function tickLabel(v: number, step: number): string {
  if (v === 0) return "0";
  if (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6) return v.toExponential(1);
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9) + (Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6)) === 2.5 ? 1 : 0));
  return v.toFixed(Math.min(decimals, 6));
}

/** Linear axis: the range widened to whole steps, and the tick values in it. */
export function niceTicks(lo: number, hi: number, target = 5): { lo: number; hi: number; step: number; ticks: number[] } {
  const step = niceStep(hi - lo, target);
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; a + k * step <= b + step * 1e-9; k++) ticks.push(Number((a + k * step).toPrecision(12)));
  return { lo: a, hi: b > a ? b : a + step, step, ticks };
}

/** Log axis ticks: 1, 2, 5 × 10^k inside [lo, hi] (only powers of ten when the range spans many decades). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(hi / lo);
  const mult = decades > 3 ? [1] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of mult) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo && v <= hi) out.push(v);
    }
  return out;
}

/** Right margin that fits the longest legend entry (≈6.5 px per character at 11 px). */
const legendMargin = (names: readonly string[]) => Math.ceil(30 + 6.5 * Math.max(0, ...names.map((n) => n.length)));

interface Axes {
  readonly px: (x: number) => number;
  readonly py: (y: number) => number;
  readonly parts: string[];
}

/** Title, axes, ticks and labels for x in [x0, x1] and y in [y0, y1] (log10 scale with `logY`). */
function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  range: { x0: number; x1: number; y0: number; y1: number; logY?: boolean },
  width: number,
  height: number,
  m: { l: number; r: number; t: number; b: number },
): Axes {
  const { logY } = range;
  const xt = niceTicks(range.x0, range.x1);
  const [x0, x1] = [xt.lo, xt.hi];
  const yt = logY ? undefined : niceTicks(range.y0, range.y1);
  const ty = (y: number) => (logY ? Math.log10(y) : y);
  const y0 = ty(yt ? yt.lo : range.y0);
  const y1 = ty(yt ? yt.hi : range.y1);
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
  const py = (y: number) => height - m.b - ((ty(y) - y0) / (y1 - y0 || 1)) * (height - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/><text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  parts.push(
    `<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${height - m.b}" stroke="black"/>`,
  );
  for (const yv of yt ? yt.ticks : logTicks(range.y0, range.y1)) {
    parts.push(
      `<text x="${m.l - 4}" y="${py(yv) + 4}" text-anchor="end">${yt ? tickLabel(yv, yt.step) : yv.toExponential(1)}</text><line x1="${m.l}" x2="${width - m.r}" y1="${py(yv)}" y2="${py(yv)}" stroke="#eee"/>`,
    );
  }
  for (const xv of xt.ticks) parts.push(`<text x="${px(xv)}" y="${height - m.b + 14}" text-anchor="middle">${tickLabel(xv, xt.step)}</text>`);
  parts.push(`<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text x="14" y="${height / 2}" text-anchor="middle" transform="rotate(-90 14 ${height / 2})">${esc(yLabel)}</text>`);
  return { px, py, parts };
}

/** An SVG path through the points, in drawing coordinates. */
const pathD = (points: readonly (readonly [number, number])[], px: (x: number) => number, py: (y: number) => number) =>
  points.map(([x, y], j) => `${j ? "L" : "M"}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join("");

const legend = (parts: string[], x: number, y: number, i: number, color: string, name: string) =>
  parts.push(`<rect x="${x}" y="${y + i * 16}" width="10" height="10" fill="${color}"/><text x="${x + 14}" y="${y + i * 16 + 9}">${esc(name)}</text>`);

export function lineChart(title: string, xLabel: string, yLabel: string, series: readonly Series[], width = 720, height = 320): string {
  const m = { l: 60, r: legendMargin(series.map((s) => s.name)), t: 30, b: 40 };
  width = Math.max(width, m.l + m.r + 420);
  height = Math.max(height, m.t + m.b + 16 * series.length);
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y);
  const range = { x0: Math.min(...xs, 0), x1: Math.max(...xs, 1), y0: 0, y1: Math.max(...ys, 1e-9) };
  const { px, py, parts } = frame(title, xLabel, yLabel, range, width, height, m);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    parts.push(
      `<path d="${pathD(
        s.x.map((x, j) => [x, s.y[j]!] as const),
        px,
        py,
      )}" fill="none" stroke="${c}" stroke-width="1.5"/>`,
    );
    legend(parts, width - m.r + 10, m.t, i, c, s.name);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/**
 * Points (a marker each, joined by a dashed line when a series has more than one), axes fitted
 * to the data with a margin; `logY` for quantities spanning orders of magnitude (y must be > 0).
 */
export function scatterChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly Series[],
  opts: { logY?: boolean } = {},
  width = 720,
  height = 360,
): string {
  const m = { l: 70, r: legendMargin(series.map((s) => s.name)), t: 30, b: 40 };
  width = Math.max(width, m.l + m.r + 420);
  height = Math.max(height, m.t + m.b + 16 * series.length);
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y).filter((y) => !opts.logY || y > 0);
  const [xLo, xHi, yLo, yHi] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const xPad = (xHi - xLo) * 0.05 || 1;
  const range = {
    x0: xLo - xPad,
    x1: xHi + xPad,
    ...(opts.logY ? { y0: yLo / 1.5, y1: yHi * 1.5, logY: true } : { y0: Math.min(0, yLo), y1: yHi || 1 }),
  };
  const { px, py, parts } = frame(title, xLabel, yLabel, range, width, height, m);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    // Joined left to right, whatever order the points came in.
    const pts = s.x
      .map((x, j) => [x, s.y[j]!] as const)
      .filter(([, y]) => !opts.logY || y > 0)
      .sort((p, q) => p[0] - q[0]);
    if (pts.length > 1) parts.push(`<path d="${pathD(pts, px, py)}" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="4 3"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${c}"/>`);
    legend(parts, width - m.r + 10, m.t, i, c, s.name);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function barChart(title: string, yLabel: string, bars: readonly { label: string; value: number }[], width = 720, height = 320): string {
  const m = { l: 70, r: 20, t: 30, b: 90 };
  const yt = niceTicks(0, Math.max(...bars.map((b) => b.value), 1e-12) * 1.08);
  const y1 = yt.hi;
  const bw = (width - m.l - m.r) / Math.max(1, bars.length);
  const py = (y: number) => height - m.b - (y / y1) * (height - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/><text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  parts.push(`<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="black"/>`);
  parts.push(`<text x="14" y="${(m.t + height - m.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.t + height - m.b) / 2})">${esc(yLabel)}</text>`);
  for (const v of yt.ticks)
    parts.push(
      `<text x="${m.l - 4}" y="${py(v) + 4}" text-anchor="end">${tickLabel(v, yt.step)}</text><line x1="${m.l}" x2="${width - m.r}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/>`,
    );
  bars.forEach((b, i) => {
    const x = m.l + i * bw + bw * 0.15;
    const c = COLORS[i % COLORS.length]!;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${py(b.value).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${(height - m.b - py(b.value)).toFixed(1)}" fill="${c}"/>`,
    );
    parts.push(`<text x="${(x + bw * 0.35).toFixed(1)}" y="${(py(b.value) - 3).toFixed(1)}" text-anchor="middle">${fmt(b.value)}</text>`);
    const lx = x + bw * 0.35;
    parts.push(
      `<text x="${lx.toFixed(1)}" y="${height - m.b + 12}" text-anchor="end" transform="rotate(-35 ${lx.toFixed(1)} ${height - m.b + 12})">${esc(b.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
