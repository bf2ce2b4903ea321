import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SimResult } from "./sim-model.js";
import { barChart, lineChart } from "./svg-chart.js";

const sci = (x: number) => (Number.isFinite(x) ? x.toExponential(2) : "n/a");
export const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** One markdown table row per result (the metrics of Beloglazov & Buyya's Table V plus ours). */
export function resultsTable(results: readonly SimResult[]): string {
  const rows = [
    "| policy | workload | energy kWh | migrations | SLATAH | PDM | SLAV | ESV | under-delivered CPU | VM-time unmet | overload host-h | wall s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    rows.push(
      `| ${r.policy} | ${r.workload} | ${r.energyKWh.toFixed(2)} | ${r.migrations} | ${pct(r.slatah)} | ${pct(r.pdm)} | ${sci(r.slav)} | ${sci(r.esv)} | ${pct(r.overallUnderAllocation)} | ${pct(r.unmetVmTimeShare)} | ${(r.overloadHostSeconds / 3600).toFixed(1)} | ${(r.wallMs / 1000).toFixed(2)} |`,
    );
  }
  return rows.join("\n");
}

export function forecastTable(results: readonly SimResult[]): string {
  const rows = ["| policy | model | used for decisions | MAE (pp) | RMSE (pp) | samples |", "|---|---|---|---|---|---|"];
  for (const r of results)
    for (const f of r.forecastErrors)
      rows.push(`| ${r.policy} | ${f.model} | ${f.usedForDecisions ? "yes" : "no"} | ${f.mae.toFixed(2)} | ${f.rmse.toFixed(2)} | ${f.samples} |`);
  return rows.length > 2 ? rows.join("\n") : "_no policy used forecasts_";
}

/** Writes `<dir>/<name>.md`, `<dir>/<name>.json` and the SVG plots next to them. */
export async function writeSimulationReport(
  dir: string,
  name: string,
  results: readonly SimResult[],
  preface = "",
): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const hours = (t: readonly number[]) => t.map((x) => x / 3600);
  const active = lineChart(
    "Active hosts over time",
    "simulated hours",
    "active hosts",
    results.map((r) => ({ name: `${r.policy} (${r.workload})`, x: hours(r.timeline.t), y: r.timeline.activeHosts })),
  );
  const energy = barChart(
    "Energy",
    "kWh",
    results.map((r) => ({ label: `${r.policy}`, value: r.energyKWh })),
  );
  const migr = barChart(
    "Migrations",
    "count",
    results.map((r) => ({ label: `${r.policy}`, value: r.migrations })),
  );
  const slav = barChart(
    "SLAV (SLATAH × PDM)",
    "SLAV",
    results.map((r) => ({ label: `${r.policy}`, value: r.slav })),
  );
  const under = barChart(
    "Under-delivered CPU (share of requested CPU not allocated)",
    "%",
    results.map((r) => ({ label: `${r.policy}`, value: r.overallUnderAllocation * 100 })),
  );
  const files = {
    active: `${name}-active-hosts.svg`,
    energy: `${name}-energy.svg`,
    migr: `${name}-migrations.svg`,
    slav: `${name}-slav.svg`,
    under: `${name}-under-delivered.svg`,
  };
  await writeFile(join(dir, files.active), active);
  await writeFile(join(dir, files.energy), energy);
  await writeFile(join(dir, files.migr), migr);
  await writeFile(join(dir, files.slav), slav);
  await writeFile(join(dir, files.under), under);
  const md = [
    `# Simulation report: ${name}`,
    "",
    preface,
    "## Results",
    "",
    resultsTable(results),
    "",
    "SLATAH = time active hosts got less CPU than requested / active time; PDM = CPU lost to migrations / CPU requested; SLAV = SLATAH × PDM; ESV = energy × SLAV; under-delivered CPU = CPU requested but not allocated, whatever the cause / CPU requested; VM-time unmet = share of VM-seconds with less CPU than requested.",
    "",
    "## Forecast error (one step ahead, percentage points of the container's CPU size)",
    "",
    forecastTable(results),
    "",
    `![active hosts](${files.active})`,
    "",
    `![energy](${files.energy}) ![migrations](${files.migr}) ![SLAV](${files.slav}) ![under-delivered CPU](${files.under})`,
    "",
  ].join("\n");
  const markdown = join(dir, `${name}.md`);
  const json = join(dir, `${name}.json`);
  await writeFile(markdown, md);
  await writeFile(json, JSON.stringify(results, null, 2));
  return { markdown, json };
}
