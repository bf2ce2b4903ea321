// npm run bench:pooled-fit — what refitting the fleet-wide pooled forecasting model costs the control service's event
// loop: the fit as the rebalance round did it before (ForecastCache.refreshPooled, on the event loop) versus on a worker
// thread (refreshPooledInBackground, what the round does now), side by side in one run, alternating. Series are seeded
// synthetic CPU histories (the fit's cost depends on their number and length, capped at 50,000 rows, not on their
// values). Writes bench/results/pooled-fit.{md,json}.
import { isDeepStrictEqual } from "node:util";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { createLogger } from "../shared/src/logger.js";
import { seededRandom } from "../shared/src/seeded-random.js";
import { InMemoryModelStore } from "../services/control/src/forecast/model-store.js";
import { ForecastCache } from "../services/control/src/rebalance/forecast-cache.js";

type Mode = "event loop" | "worker thread";

interface Row {
  mode: Mode;
  round: number;
  /** From the call until the new model is in the cache. */
  fitMs: number;
  /** The longest the event loop went without running a 5 ms timer meanwhile (what ingest and the API would wait). */
  loopStallMs: number;
}

/** Seeded CPU histories: a per-series level and cycle plus noise, like the bench:scale fleet's. */
function histories(n: number, points: number, seed: number): number[][] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const level = 5 + 60 * rnd();
    const amp = 20 * rnd();
    const phase = 10 * rnd();
    return Array.from({ length: points }, (_, t) => Math.max(0, level + amp * Math.sin(t / 5 + phase) + 8 * (rnd() - 0.5)));
  });
}

/** Runs `fit` while a 5 ms timer watches the event loop; returns how long until done and the longest gap between ticks. */
async function watched(fit: () => Promise<void>): Promise<{ fitMs: number; loopStallMs: number }> {
  let last = performance.now();
  let worst = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  await fit();
  const fitMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 30)); // let the probe see the end of a blocking fit
  clearInterval(probe);
  return { fitMs, loopStallMs: Math.max(worst, performance.now() - last) };
}

async function main(): Promise<void> {
  const o = new Command()
    .option("--series <n>", "series (containers)", "20000")
    .option("--points <n>", "points per series (one per planning interval)", "60")
    .option("--rounds <n>", "rounds of each mode, alternating", "3")
    .parse()
    .opts<{ series: string; points: string; rounds: string }>();
  const n = Number(o.series);
  const points = Number(o.points);
  const rounds = Number(o.rounds);
  for (const [name, v] of [
    ["--series", n],
    ["--points", points],
    ["--rounds", rounds],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${String(v)}`);
  }
  const log = createLogger({ level: "warn" }).child({ component: "bench-pooled-fit" });
  const data = histories(n, points, 7);
  const rows: Row[] = [];
  const models = new Map<Mode, unknown>();
  for (let round = 1; round <= rounds; round++) {
    // Alternating which goes first, so a machine that gets busier during the run does not favour one.
    const order: Mode[] = round % 2 === 1 ? ["event loop", "worker thread"] : ["worker thread", "event loop"];
    for (const mode of order) {
      const cache = new ForecastCache({ store: new InMemoryModelStore(), log, retrainMs: 60_000, horizon: 6 });
      const r = await watched(async () => {
        if (mode === "event loop") cache.refreshPooled(data);
        else {
          cache.refreshPooledInBackground(data);
          await cache.pooledFitSettled();
        }
      });
      if (!cache.pooledModel()) throw new Error(`${mode}: no pooled model was fitted`);
      models.set(mode, cache.pooledModel());
      rows.push({ mode, round, fitMs: Math.round(r.fitMs), loopStallMs: Math.round(r.loopStallMs) });
      log.info("Fit", { mode, round, ...r });
    }
  }
  const same = isDeepStrictEqual(models.get("event loop"), models.get("worker thread"));
  if (!same) throw new Error("the worker thread's model differs from the event loop's");
  const median = (mode: Mode, key: "fitMs" | "loopStallMs") => {
    const v = rows
      .filter((r) => r.mode === mode)
      .map((r) => r[key])
      .sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)]!;
  };
  const meta = { at: new Date().toISOString(), series: n, points, rounds, cpus: cpus().length, loadAvg1Before: loadavg()[0], sameModel: same };
  const summary = (["event loop", "worker thread"] as const).map((mode) => ({ mode, fitMs: median(mode, "fitMs"), loopStallMs: median(mode, "loopStallMs") }));
  const [inLoop, onThread] = summary as [(typeof summary)[0], (typeof summary)[0]];
  const md = [
    `## bench:pooled-fit (${n} series × ${points} points, ${rounds} rounds each, alternating; ${meta.cpus} CPUs)`,
    "",
    "| where the fit runs | fit ms (median) | longest event-loop stall ms (median) |",
    "|---|---:|---:|",
    ...summary.map((s) => `| ${s.mode} | ${s.fitMs} | ${s.loopStallMs} |`),
    "",
    `Worker thread / event loop: fit ×${(onThread.fitMs / inLoop.fitMs).toFixed(2)}, event-loop stall ×${(onThread.loopStallMs / inLoop.loopStallMs).toFixed(3)}. ` +
      `The two fits give the same model (deep-equal). Every round: ${rows.map((r) => `${r.mode} ${r.fitMs}/${r.loopStallMs}`).join(", ")} (fit/stall ms).`,
    "",
  ].join("\n");
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/bench/pooled-fit.js → <repo>/bench/results
  const resultsDir = join(here, "..", "..", "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "pooled-fit.md"), md);
  writeFileSync(join(resultsDir, "pooled-fit.json"), JSON.stringify({ meta, summary, rows }, null, 2) + "\n");
  process.stdout.write(md);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:pooled-fit: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
