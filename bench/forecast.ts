// `npm run bench:forecast`: forecaster accuracy on real traces.
// For every series: the first 2/3 is history (feature ranking + rolling-origin model choice, per
// horizon); the rest is the test period, forecast from every origin with periodic refits on
// everything seen so far. Reports pooled MAE/RMSE at horizons 1 and 5 for each model and for the
// per-series chosen model, writes bench/results/forecast.{md,json}.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { listPlanetLabDays, readPlanetLabDay } from "../services/control/src/traces/planetlab.js";
import { readAlibabaMachineUsage } from "../services/control/src/traces/alibaba.js";
import { buildDesign, resolveFeatureOptions, sliceContext } from "../services/control/src/forecast/features.js";
import { rankFeatures, selectFeatures, seededRandom } from "../services/control/src/forecast/feature-selection.js";
import { createForecaster } from "../services/control/src/forecast/model-codec.js";
import { pickBest, rollingOrigin, type ModelScore, type Preference } from "../services/control/src/forecast/rolling-origin.js";
import { fitPooledLinear, type PooledLinearModel } from "../services/control/src/forecast/global-linear-forecaster.js";
import type { Forecaster, ForecasterName, SeriesContext } from "../services/control/src/forecast/forecaster.js";
import { FORECASTER_NAMES } from "../services/control/src/forecast/forecaster.js";
import { FORECAST_SETUP, choosePerHorizon } from "../services/control/src/forecast/forecast-setup.js";
import { DEFAULT_LAMBDA } from "../services/control/src/forecast/linear-forecaster.js";

const HORIZONS = [1, 5];

interface Series {
  dataset: string;
  /** Series fitted together by the pooled model (a PlanetLab day; an Alibaba metric). */
  group: string;
  id: string;
  metric: string;
  values: number[];
  context: SeriesContext;
}

/** Pooled error sums over many series: pooled MAE = Σ|e| / Σn. */
class Pool {
  abs = 0;
  sq = 0;
  n = 0;
  add(s: { mae: number; rmse: number; count: number }): void {
    if (!s.count) return;
    this.abs += s.mae * s.count;
    this.sq += s.rmse * s.rmse * s.count;
    this.n += s.count;
  }
  get mae(): number {
    return this.abs / this.n;
  }
  get rmse(): number {
    return Math.sqrt(this.sq / this.n);
  }
}

type Column = ForecasterName | "chosen";

interface DatasetResult {
  dataset: string;
  series: number;
  forecastsPerHorizon: Record<number, number>;
  errors: Record<Column, Record<number, { mae: number; rmse: number }>>;
  chosenCounts: Record<number, Partial<Record<ForecasterName, number>>>;
  /** chosen MAE / ewma MAE at each horizon. */
  ratioVsEwma: Record<number, number>;
  /** How often each feature was selected, and its mean importance. */
  topFeatures: { feature: string; selectedIn: number; meanImportance: number }[];
  fitMs: Partial<Record<ForecasterName, { fits: number; meanMs: number }>>;
  /** Chosen MAE / EWMA MAE per horizon if the choice had used each margin (Infinity: always global-linear). */
  ratioByMargin: { margin: number | "always"; ratio: Record<number, number> }[];
  /**
   * MAE per horizon of `global-linear` fitted on the whole of every series (test period included):
   * what the pooled linear model could reach with look-ahead, as a ratio to EWMA's MAE too.
   */
  lookAheadBound?: Record<number, { mae: number; ratio: number }>;
  /** Pooled fits made for this dataset (all groups × cut times) and their mean time. */
  pooledFits: { fits: number; meanMs: number };
  seconds: number;
}

/** Wraps a forecaster to time its fits; keeps `reason` visible so rolling-origin counts fallback folds. */
function timed(f: Forecaster, acc: { fits: number; ms: number }): Forecaster {
  return {
    name: f.name,
    fit(h, c) {
      const t0 = performance.now();
      f.fit(h, c);
      acc.fits++;
      acc.ms += performance.now() - t0;
    },
    predict: (r, h, c) => f.predict(r, h, c),
    get reason() {
      return (f as { reason?: string }).reason;
    },
  } as Forecaster;
}

/**
 * Pooled models per (group, cut time), fitted on every series of the group up to that time
 * only: a fold that fits on samples ≤ T gets a pooled model that saw nothing after T either.
 */
class PooledModels {
  private readonly cache = new Map<string, PooledLinearModel | undefined>();
  fits = 0;
  ms = 0;
  constructor(
    private readonly pools: ReadonlyMap<string, readonly { values: readonly number[]; t: readonly number[] }[]>,
    private readonly maxRows: number,
  ) {}
  get(group: string, until: number): PooledLinearModel | undefined {
    const key = `${group}@${until}`;
    if (!this.cache.has(key)) {
      const t0 = performance.now();
      const histories = (this.pools.get(group) ?? []).map((s) => {
        let n = 0;
        while (n < s.t.length && s.t[n]! <= until) n++;
        return s.values.slice(0, n);
      });
      this.cache.set(key, fitPooledLinear(histories, { horizons: HORIZONS, maxRows: this.maxRows }));
      this.fits++;
      this.ms += performance.now() - t0;
    }
    return this.cache.get(key);
  }
}

/**
 * `global-linear` for one series: each fit takes the pooled model trained up to the fit's last
 * sample time — or, with `lookAhead`, the one trained on the group's whole series, test period
 * included (not a forecaster: an upper bound on what this model family can do on the data).
 */
function pooledFor(s: Series, pooled: PooledModels, lookAhead = false): Forecaster {
  let inner = createForecaster("global-linear", { metric: s.metric });
  return {
    name: "global-linear",
    fit(history, ctx) {
      const until = lookAhead ? Infinity : (ctx?.t?.[ctx.t.length - 1] ?? history.length - 1);
      const model = pooled.get(s.group, until);
      inner = createForecaster("global-linear", { metric: s.metric, ...(model ? { pooled: model } : {}) });
      inner.fit(history, ctx);
    },
    predict: (r, h, c) => inner.predict(r, h, c),
    get reason() {
      return (inner as { reason?: string }).reason;
    },
  } as Forecaster;
}

interface EvalOptions {
  refitEvery: number;
  forestTrees: number;
  models: ForecasterName[];
  lambda: number;
  loss: "absolute" | "squared";
  selectFeatures: boolean;
  /** Per-series choice keeps global-linear unless another model validates better by more than this. */
  margin: number;
  pooled: PooledModels;
  /** Pooled models for the look-ahead bound, kept apart so their fits do not count in `pooled`'s timing. */
  lookAheadPooled: PooledModels;
}

/** Margins reported besides the chosen one, to show how much the choice rule matters. */
const MARGINS = [0, 0.05, 0.1, 0.2, Infinity];

async function evaluate(dataset: string, series: Series[], opts: EvalOptions): Promise<DatasetResult> {
  const t0 = performance.now();
  const pooledFits0 = opts.pooled.fits;
  const pooledMs0 = opts.pooled.ms;
  const COLUMNS: Column[] = [...opts.models, "chosen"];
  const perHorizon = () => Object.fromEntries(HORIZONS.map((h) => [h, new Pool()])) as Record<number, Pool>;
  const pools = Object.fromEntries(COLUMNS.map((c) => [c, perHorizon()])) as Record<Column, Record<number, Pool>>;
  const chosenCounts: DatasetResult["chosenCounts"] = Object.fromEntries(HORIZONS.map((h) => [h, {}]));
  const bound = perHorizon();
  const byMargin = MARGINS.map(perHorizon);
  const usePooled = opts.models.includes("global-linear");
  const preference = (margin: number): Preference | undefined => (usePooled ? { name: "global-linear", margin } : undefined);
  const featureStats = new Map<string, { selectedIn: number; importance: number; seen: number }>();
  const timing = Object.fromEntries(FORECASTER_NAMES.map((n) => [n, { fits: 0, ms: 0 }])) as Record<ForecasterName, { fits: number; ms: number }>;
  let done = 0;
  for (const s of series) {
    const n = s.values.length;
    const trainEnd = Math.floor((2 * n) / 3);
    const train = s.values.slice(0, trainEnd);
    const trainCtx = sliceContext(s.context, 0, trainEnd);
    const feat = resolveFeatureOptions({ target: s.metric });
    // Feature selection sees only the history part.
    const ranking = !opts.selectFeatures
      ? []
      : rankFeatures(buildDesign(train, 1, feat, trainCtx), {
          forest: { nEstimators: opts.forestTrees, maxDepth: 5, minNumSamples: 5, maxFeatures: 0.7, seed: 42 },
        });
    const selected = opts.selectFeatures ? selectFeatures(ranking) : undefined;
    for (const r of ranking) {
      const st = featureStats.get(r.feature) ?? { selectedIn: 0, importance: 0, seen: 0 };
      st.seen++;
      st.importance += r.importance;
      if (selected?.includes(r.feature)) st.selectedIn++;
      featureStats.set(r.feature, st);
    }
    const make = (name: ForecasterName) => () =>
      timed(
        name === "global-linear"
          ? pooledFor(s, opts.pooled)
          : createForecaster(name, {
              metric: s.metric,
              features: feat,
              horizons: HORIZONS,
              ...(selected ? { selected } : {}),
              lambda: opts.lambda,
              loss: opts.loss,
              forest: { nEstimators: opts.forestTrees },
            }),
        timing[name],
      );
    const factories = Object.fromEntries(opts.models.map((m) => [m, make(m)]));
    const validation = rollingOrigin(train, trainCtx, factories, { horizons: HORIZONS, folds: FORECAST_SETUP.folds });
    const testOpts = { horizons: HORIZONS, minTrain: trainEnd, folds: Math.max(1, Math.ceil((n - trainEnd) / opts.refitEvery)) };
    const test = rollingOrigin(s.values, s.context, factories, testOpts);
    const lookAhead = usePooled ? rollingOrigin(s.values, s.context, { "global-linear": () => pooledFor(s, opts.lookAheadPooled, true) }, testOpts) : undefined;
    // The live control loop's choice rule (a model that fell back in validation is no candidate).
    const candidates = validation.scores.filter((v) => v.fallbackFolds === 0);
    const choice = choosePerHorizon(validation.scores, HORIZONS, preference(opts.margin));
    HORIZONS.forEach((h, hi) => {
      const at = (sc: ModelScore) => sc.perHorizon.find((p) => p.horizon === h)!;
      if (lookAhead) bound[h]!.add(at(lookAhead.scores[0]!));
      const best = choice[hi]!;
      chosenCounts[h]![best] = (chosenCounts[h]![best] ?? 0) + 1;
      MARGINS.forEach((m, k) => {
        const b = pickBest(candidates, h, preference(m))?.name ?? "ewma";
        byMargin[k]![h]!.add(at(test.scores.find((sc) => sc.name === b)!));
      });
      for (const sc of test.scores) pools[sc.name][h]!.add(at(sc));
      pools.chosen[h]!.add(at(test.scores.find((sc) => sc.name === best)!));
    });
    if (++done % 100 === 0) process.stderr.write(`  ${dataset}: ${done}/${series.length} series, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  const errors = Object.fromEntries(
    COLUMNS.map((c) => [c, Object.fromEntries(HORIZONS.map((h) => [h, { mae: pools[c][h]!.mae, rmse: pools[c][h]!.rmse }]))]),
  ) as DatasetResult["errors"];
  return {
    dataset,
    series: series.length,
    forecastsPerHorizon: Object.fromEntries(HORIZONS.map((h) => [h, pools.ewma[h]!.n])),
    errors,
    chosenCounts,
    ratioVsEwma: Object.fromEntries(HORIZONS.map((h) => [h, errors.chosen[h]!.mae / errors.ewma[h]!.mae])),
    topFeatures: [...featureStats.entries()]
      .map(([feature, st]) => ({ feature, selectedIn: st.selectedIn, meanImportance: st.importance / st.seen }))
      .sort((a, b) => b.selectedIn - a.selectedIn || b.meanImportance - a.meanImportance)
      .slice(0, 10),
    // global-linear's first fit at each cut time triggers that cut's pooled fit: reported separately.
    fitMs: Object.fromEntries(
      opts.models.map((nm) => {
        const ms = timing[nm].ms - (nm === "global-linear" ? opts.pooled.ms - pooledMs0 : 0);
        return [nm, { fits: timing[nm].fits, meanMs: timing[nm].fits ? ms / timing[nm].fits : 0 }];
      }),
    ),
    ratioByMargin: usePooled
      ? MARGINS.map((m, k) => ({
          margin: Number.isFinite(m) ? m : ("always" as const),
          ratio: Object.fromEntries(HORIZONS.map((h) => [h, byMargin[k]![h]!.mae / errors.ewma[h]!.mae])),
        }))
      : [],
    ...(usePooled ? { lookAheadBound: Object.fromEntries(HORIZONS.map((h) => [h, { mae: bound[h]!.mae, ratio: bound[h]!.mae / errors.ewma[h]!.mae }])) } : {}),
    pooledFits: {
      fits: opts.pooled.fits - pooledFits0,
      meanMs: opts.pooled.fits - pooledFits0 ? (opts.pooled.ms - pooledMs0) / (opts.pooled.fits - pooledFits0) : 0,
    },
    seconds: (performance.now() - t0) / 1000,
  };
}

function sample<T>(items: T[], k: number, rnd: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

type Pools = Map<string, { values: readonly number[]; t: readonly number[] }[]>;

/** Sampled VMs to evaluate (perDay ≤ 0: all) and, per day, every VM for the pooled model. */
async function planetLabSeries(root: string, perDay: number, seed: number, pools: Pools): Promise<Series[]> {
  const out: Series[] = [];
  for (const day of await listPlanetLabDays(root)) {
    const d = await readPlanetLabDay(join(root, day));
    const t = d.vms[0]?.cpuPct.map((_, i) => i * 300) ?? [];
    pools.set(
      `planetlab/${day}`,
      d.vms.map((vm) => ({ values: vm.cpuPct, t })),
    );
    const rnd = seededRandom(seed + Number(day));
    for (const vm of sample(d.vms, perDay > 0 ? perDay : d.vms.length, rnd)) {
      out.push({ dataset: "planetlab", group: `planetlab/${day}`, id: `${day}/${vm.name}`, metric: "cpu", values: vm.cpuPct, context: { t } });
    }
  }
  return out;
}

async function alibabaSeries(file: string, pools: Pools): Promise<Series[]> {
  const machines = await readAlibabaMachineUsage(file, { resampleSeconds: 300 });
  const out: Series[] = [];
  for (const m of machines) {
    const all = { cpu: m.cpuPct, mem: m.memPct, netIn: m.netIn, netOut: m.netOut, disk: m.diskPct };
    for (const metric of ["cpu", "mem"] as const) {
      const covariates = Object.fromEntries(Object.entries(all).filter(([k]) => k !== metric));
      out.push({
        dataset: "alibaba",
        group: `alibaba/${metric}`,
        id: `${m.machineId}/${metric}`,
        metric,
        values: all[metric],
        context: { t: m.t, covariates },
      });
    }
  }
  for (const s of out) pools.set(s.group, [...(pools.get(s.group) ?? []), { values: s.values, t: s.context.t! }]);
  return out;
}

/** Issue 14's targets for chosen / EWMA(0.7) MAE at horizon 5. */
const TARGET_H5: Record<string, number> = { planetlab: 0.75, alibaba: 0.85 };

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : "n/a");

function markdown(results: DatasetResult[], meta: Record<string, unknown>): string {
  const lines = [
    "# Forecast benchmark",
    "",
    "Generated by `npm run bench:forecast` (bench/forecast.ts). Per series: first 2/3 = history (feature ranking,",
    "rolling-origin choice per horizon, 2 folds); last 1/3 = test, forecast from every origin, refit on all data seen",
    "so far every `refitEvery` steps. Errors are pooled over all test forecasts (percentage points of utilization).",
    "`global-linear` is one model per group (a PlanetLab day: all its VMs, not only the sampled ones; an Alibaba",
    "metric), fitted for each fit's cut time on every series of the group up to that time only, so neither",
    "validation nor test forecasts see anything after their fit's last sample. The per-series choice keeps it unless",
    "another model's validation MAE is lower by more than `margin`. By default the model set, the choice rule",
    "(per horizon, `choosePerHorizon`) and the folds are the live control loop's (`FORECAST_SETUP`, used by",
    "services/control/src/rebalance/forecast-cache.ts). Hand-written notes of earlier runs (random forest, feature",
    "selection, what was tried for Alibaba): `git log -p bench/results/forecast.md`.",
    "",
    "```",
    JSON.stringify(meta),
    "```",
    "",
  ];
  for (const r of results) {
    lines.push(`## ${r.dataset} — ${r.series} series, ${r.forecastsPerHorizon[1]} test forecasts per horizon, ${r.seconds.toFixed(0)} s`, "");
    lines.push("| model | MAE h=1 | RMSE h=1 | MAE h=5 | RMSE h=5 |", "|---|---|---|---|---|");
    for (const c of Object.keys(r.errors) as Column[]) {
      const e = r.errors[c];
      lines.push(`| ${c === "chosen" ? "**chosen per series**" : c} | ${f2(e[1]!.mae)} | ${f2(e[1]!.rmse)} | ${f2(e[5]!.mae)} | ${f2(e[5]!.rmse)} |`);
    }
    lines.push("");
    for (const h of HORIZONS) {
      const ratio = r.ratioVsEwma[h]!;
      lines.push(
        `- h=${h}: chosen MAE / EWMA MAE = **${ratio.toFixed(3)}**${h === 5 ? ` (issue 14's target ≤ ${TARGET_H5[r.dataset]}: ${ratio <= TARGET_H5[r.dataset]! ? "met" : "missed"})` : ""}; chosen: ${Object.entries(
          r.chosenCounts[h]!,
        )
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
    }
    lines.push(
      r.topFeatures.length
        ? `- most often selected features: ${r.topFeatures.map((f) => `${f.feature} (${f.selectedIn}×, ${f.meanImportance.toFixed(3)})`).join(", ")}`
        : "- no feature selection (the live loop's set-up): learned models use every feature",
    );
    if (r.ratioByMargin.length) {
      lines.push(
        `- chosen / EWMA at h=1, h=5 by choice margin (global-linear kept unless beaten by more than the margin in validation): ${r.ratioByMargin.map((m) => `${m.margin === "always" ? "always global-linear" : m.margin} → ${HORIZONS.map((h) => m.ratio[h]!.toFixed(3)).join(", ")}`).join("; ")}`,
      );
    }
    if (r.lookAheadBound) {
      lines.push(
        `- look-ahead bound — global-linear fitted on every series of its group including the test period (not a forecast): ${HORIZONS.map((h) => `h=${h} MAE ${f2(r.lookAheadBound![h]!.mae)}, ${r.lookAheadBound![h]!.ratio.toFixed(3)} × EWMA`).join("; ")}`,
      );
    }
    lines.push(
      `- mean fit time (both horizons): ${Object.entries(r.fitMs)
        .map(([k, v]) => `${k} ${v!.meanMs.toFixed(1)} ms × ${v!.fits}`)
        .join(", ")}${r.pooledFits.fits ? `; pooled fits ${r.pooledFits.meanMs.toFixed(0)} ms × ${r.pooledFits.fits}` : ""}`,
    );
    lines.push("");
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const cmd = new Command()
    .option("--traces <dir>", "traces root", process.env.HERD_TRACES_DIR ?? resolve("../shared/traces"))
    .option("--vms-per-day <n>", "PlanetLab VMs sampled per day (0: all; the pooled model always trains on all)", "200")
    .option("--seed <n>", "sampling seed", "1")
    .option("--forest-trees <n>", "trees per random forest", "12")
    .option("--out <dir>", "results folder", "bench/results")
    .option("--only <dataset>", "planetlab | alibaba")
    .option("--models <list>", "comma-separated forecasters (default: the live control loop's set)", FORECAST_SETUP.models.join(","))
    .option("--lambda <x>", "ridge penalty of the linear model", String(DEFAULT_LAMBDA))
    .option("--loss <loss>", "linear model loss: absolute | squared", "squared")
    .option("--select", "rank features by permutation importance and train on the selected ones (the live loop does not)", FORECAST_SETUP.selectFeatures)
    .option(
      "--margin <x>",
      "per-series choice keeps global-linear unless another model validates better by more than this fraction",
      String(FORECAST_SETUP.margin),
    )
    .option("--pool-rows <n>", "rows (series × origin) drawn for each pooled fit", "50000")
    .parse();
  const o = cmd.opts<{
    traces: string;
    vmsPerDay: string;
    seed: string;
    forestTrees: string;
    out: string;
    only?: string;
    models: string;
    lambda: string;
    loss: string;
    select: boolean;
    margin: string;
    poolRows: string;
  }>();
  if (o.loss !== "absolute" && o.loss !== "squared") throw new Error(`--loss must be absolute or squared`);
  const models = o.models.split(",").map((m) => m.trim()) as ForecasterName[];
  for (const m of models) if (!FORECASTER_NAMES.includes(m)) throw new Error(`unknown model ${m}`);
  if (!models.includes("ewma")) models.unshift("ewma"); // the reference every ratio is taken against
  const meta = {
    vmsPerDay: Number(o.vmsPerDay),
    seed: Number(o.seed),
    forestTrees: Number(o.forestTrees),
    models,
    lambda: Number(o.lambda),
    loss: o.loss,
    selectFeatures: o.select,
    margin: Number(o.margin),
    poolRows: Number(o.poolRows),
    refitEvery: 96,
    horizons: HORIZONS,
    node: process.version,
  };
  const pools: Pools = new Map();
  const evalOpts: EvalOptions = {
    refitEvery: 96,
    forestTrees: meta.forestTrees,
    models,
    lambda: meta.lambda,
    loss: o.loss,
    selectFeatures: o.select,
    margin: meta.margin,
    pooled: new PooledModels(pools, meta.poolRows),
    lookAheadPooled: new PooledModels(pools, meta.poolRows),
  };
  const results: DatasetResult[] = [];
  if (o.only !== "alibaba") {
    const pl = await planetLabSeries(join(o.traces, "planetlab"), meta.vmsPerDay, meta.seed, pools);
    process.stderr.write(`planetlab: ${pl.length} series\n`);
    results.push(await evaluate("planetlab", pl, evalOpts));
  }
  if (o.only !== "planetlab") {
    const al = await alibabaSeries(join(o.traces, "alibaba2018_machine_usage", "machine_usage_first100k.csv"), pools);
    process.stderr.write(`alibaba: ${al.length} series\n`);
    // Refit every 8 h, like a control service retraining a few times a day.
    results.push(await evaluate("alibaba", al, evalOpts));
  }
  await mkdir(o.out, { recursive: true });
  await writeFile(join(o.out, "forecast.json"), JSON.stringify({ meta, results }, null, 2) + "\n");
  await writeFile(join(o.out, "forecast.md"), markdown(results, meta) + "\n");
  process.stdout.write(markdown(results, meta) + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:forecast failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
