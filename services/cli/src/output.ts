import Table from "cli-table3";
import { ValidationError } from "../../../shared/src/errors.js";

export type OutputFormat = "table" | "json";

export function parseOutputFormat(value: string): OutputFormat {
  if (value !== "table" && value !== "json") throw new ValidationError("-o/--output", `must be "table" or "json", got "${value}"`);
  return value;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function formatPct(n: number | undefined): string {
  return n === undefined ? "-" : `${n.toFixed(1)}%`;
}

export function formatAge(ms: number | undefined, now = Date.now()): string {
  if (!ms) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A borderless, aligned table, readable in a terminal and in a log. */
export function renderTable(head: string[], rows: Array<Array<string | number>>): string {
  const table = new Table({
    head,
    chars: {
      top: "",
      "top-mid": "",
      "top-left": "",
      "top-right": "",
      bottom: "",
      "bottom-mid": "",
      "bottom-left": "",
      "bottom-right": "",
      left: "",
      "left-mid": "",
      mid: "",
      "mid-mid": "",
      right: "",
      "right-mid": "",
      middle: "  ",
    },
    style: { head: process.stdout.isTTY ? ["bold"] : [], border: [], "padding-left": 0, "padding-right": 0 },
  });
  for (const r of rows) table.push(r.map(String));
  return table.toString();
}

export function print(format: OutputFormat, json: unknown, table: () => string): void {
  process.stdout.write(format === "json" ? `${JSON.stringify(json, null, 2)}\n` : `${table()}\n`);
}
