import { esc } from "./format.js";

/** SVG path of a sparkline: values scaled into w×h, newest at the right. */
export function sparkPath(values: readonly number[], w: number, h: number, max?: number): string {
  if (values.length === 0) return "";
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  let d = "";
  values.forEach((v, i) => {
    const x = values.length > 1 ? i * step : w;
    const y = h - 1 - (Math.max(0, v) / top) * (h - 2);
    d += `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
  });
  return d;
}

export interface Series {
  points: ReadonlyArray<readonly [number, number]>;
  cls: string;
  label: string;
  dashed?: boolean;
  dots?: boolean;
}

export interface ChartOptions {
  w: number;
  h: number;
  yMax?: number;
  yLabel: (v: number) => string;
  xLabel: (x: number) => string;
  xFrom?: number;
  xTo?: number;
  /** A vertical marker, e.g. "now" between history and forecast. */
  marker?: { x: number; label: string };
}

/** A small line chart as SVG markup (axes, grid, legend); styled by classes in style.css. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const pad = { l: 44, r: 10, t: 10, b: 22 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0)
    return `<svg class="chart" viewBox="0 0 ${o.w} ${o.h}" role="img"><text x="${o.w / 2}" y="${o.h / 2}" class="empty" text-anchor="middle">no data yet</text></svg>`;
  const x0 = o.xFrom ?? Math.min(...all.map((p) => p[0]));
  const x1 = Math.max(o.xTo ?? Math.max(...all.map((p) => p[0])), x0 + 1);
  const yTop = niceMax(Math.max(o.yMax ?? 0, ...all.map((p) => p[1]), 1e-9));
  const iw = o.w - pad.l - pad.r;
  const ih = o.h - pad.t - pad.b;
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * iw;
  const sy = (y: number) => pad.t + ih - (Math.max(0, y) / yTop) * ih;
  let out = `<svg class="chart" viewBox="0 0 ${o.w} ${o.h}" role="img">`;
  for (let i = 0; i <= 4; i++) {
    const v = (yTop * i) / 4;
    const y = sy(v).toFixed(1);
    out += `<line class="grid" x1="${pad.l}" x2="${o.w - pad.r}" y1="${y}" y2="${y}"/><text class="axis" x="${pad.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(o.yLabel(v))}</text>`;
  }
  for (let i = 0; i <= 3; i++) {
    const x = x0 + ((x1 - x0) * i) / 3;
    out += `<text class="axis" x="${sx(x).toFixed(1)}" y="${o.h - 6}" text-anchor="${i === 0 ? "start" : i === 3 ? "end" : "middle"}">${esc(o.xLabel(x))}</text>`;
  }
  if (o.marker) {
    const x = sx(o.marker.x).toFixed(1);
    out += `<line class="marker" x1="${x}" x2="${x}" y1="${pad.t}" y2="${pad.t + ih}"/><text class="axis" x="${x}" y="${pad.t + 8}" dx="4">${esc(o.marker.label)}</text>`;
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
    out += `<path class="line ${esc(s.cls)}${s.dashed ? " dashed" : ""}" d="${d}"/>`;
    // A lone point draws no line: show it as a dot.
    if (s.dots || s.points.length === 1)
      for (const p of s.points) out += `<circle class="dot ${esc(s.cls)}" cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5"/>`;
  }
  return `${out}</svg>`;
}

export function legend(series: readonly Series[]): string {
  return `<div class="legend">${series.map((s) => `<span><i class="sw ${esc(s.cls)}${s.dashed ? " dashed" : ""}"></i>${esc(s.label)}</span>`).join("")}</div>`;
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
