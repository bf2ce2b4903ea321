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
  const { x0, x1, logY } = range;
  const ty = (y: number) => (logY ? Math.log10(y) : y);
  const y0 = ty(range.y0);
  const y1 = ty(range.y1);
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
  const py = (y: number) => height - m.b - ((ty(y) - y0) / (y1 - y0 || 1)) * (height - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/><text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  parts.push(
    `<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="black"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${height - m.b}" stroke="black"/>`,
  );
  for (let i = 0; i <= 4; i++) {
    const yt = y0 + ((y1 - y0) * i) / 4;
    const yv = logY ? 10 ** yt : yt;
    const xv = x0 + ((x1 - x0) * i) / 4;
    parts.push(
      `<text x="${m.l - 4}" y="${py(yv) + 4}" text-anchor="end">${fmt(yv)}</text><line x1="${m.l}" x2="${width - m.r}" y1="${py(yv)}" y2="${py(yv)}" stroke="#eee"/>`,
    );
    parts.push(`<text x="${px(xv)}" y="${height - m.b + 14}" text-anchor="middle">${fmt(xv)}</text>`);
  }
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
  const m = { l: 60, r: 160, t: 30, b: 40 };
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y);
  const range = { x0: Math.min(...xs, 0), x1: Math.max(...xs, 1), y0: 0, y1: Math.max(...ys, 1e-9) * 1.05 };
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
  const m = { l: 70, r: 230, t: 30, b: 40 };
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y).filter((y) => !opts.logY || y > 0);
  const [xLo, xHi, yLo, yHi] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const xPad = (xHi - xLo) * 0.05 || 1;
  const range = {
    x0: xLo - xPad,
    x1: xHi + xPad,
    ...(opts.logY ? { y0: yLo / 1.5, y1: yHi * 1.5, logY: true } : { y0: Math.min(0, yLo), y1: yHi * 1.05 || 1 }),
  };
  const { px, py, parts } = frame(title, xLabel, yLabel, range, width, height, m);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const pts = s.x.map((x, j) => [x, s.y[j]!] as const).filter(([, y]) => !opts.logY || y > 0);
    if (pts.length > 1) parts.push(`<path d="${pathD(pts, px, py)}" fill="none" stroke="${c}" stroke-width="1" stroke-dasharray="4 3"/>`);
    for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${c}"/>`);
    legend(parts, width - m.r + 10, m.t, i, c, s.name);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

export function barChart(title: string, yLabel: string, bars: readonly { label: string; value: number }[], width = 720, height = 320): string {
  const m = { l: 70, r: 20, t: 30, b: 90 };
  const y1 = Math.max(...bars.map((b) => b.value), 1e-12) * 1.1;
  const bw = (width - m.l - m.r) / Math.max(1, bars.length);
  const py = (y: number) => height - m.b - (y / y1) * (height - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/><text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  parts.push(`<line x1="${m.l}" y1="${height - m.b}" x2="${width - m.r}" y2="${height - m.b}" stroke="black"/>`);
  parts.push(`<text x="14" y="${(m.t + height - m.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(m.t + height - m.b) / 2})">${esc(yLabel)}</text>`);
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
