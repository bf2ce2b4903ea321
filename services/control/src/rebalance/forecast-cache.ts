import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { forecastReport } from "../forecast/forecast-report.js";
import type { ForecasterName } from "../forecast/forecaster.js";
import { createForecaster, type PersistableForecaster } from "../forecast/model-codec.js";
import type { ModelStore } from "../forecast/model-store.js";
import { fitPooledLinear, type PooledLinearModel } from "../forecast/global-linear-forecaster.js";
import { FORECAST_SETUP, choiceByHorizon, liveReportOptions } from "../forecast/forecast-setup.js";
import { fitPooledOffThread, type PooledFitRequest } from "../forecast/pooled-fit-thread.js";

interface Entry {
  /** Fitted models, by name: the ones chosen for at least one horizon. */
  models: Map<ForecasterName, PersistableForecaster>;
  /** The model that forecasts each horizon (index 0 = one interval ahead). */
  perHorizon: ForecasterName[];
  /** The model chosen for the most horizons (the one persisted). */
  chosen: ForecasterName;
  reason: string;
  trainedAt: number;
}

export interface ForecastCacheOptions {
  store: ModelStore;
  log: Logger;
  /** Models are re-chosen and retrained at most this often per series. */
  retrainMs: number;
  horizon: number;
  /** Fewer points than this: forecast with the EWMA baseline and say so. */
  minPoints?: number;
  /**
   * Candidate models; default FORECAST_SETUP.models, what bench:forecast measures (without a
   * pooled model, `global-linear` is left out).
   */
  models?: readonly ForecasterName[];
  /**
   * History points a model is validated and trained on (the newest); default all it is given.
   * The control service passes its configured history length (HERD_HISTORY_LENGTH).
   */
  maxHistory?: number;
  /** Retrains allowed per `beginRound()`; the other stale series keep their model until the next round. */
  trainsPerRound?: number;
  now?: () => number;
  /** How refreshPooledInBackground fits (default: on a worker thread, fitPooledOffThread). */
  fitPooled?: (req: PooledFitRequest) => Promise<PooledLinearModel | undefined>;
}

/**
 * Per-series forecasts for the control loop. A series' model is chosen by rolling-origin
 * validation and trained at most every `retrainMs`; between retrains the trained model just
 * predicts. Trained models are saved in the model store, so a restarted control service
 * forecasts with them at once.
 */
export class ForecastCache {
  private readonly entries = new Map<string, Entry>();
  /** Series whose model-store look-up found nothing, and when. */
  private readonly missing = new Map<string, number>();
  private readonly now: () => number;
  private trainsLeft = Infinity;
  private pooled?: { model: PooledLinearModel; fittedAt: number };
  private fitting?: Promise<void>;

  constructor(private readonly o: ForecastCacheOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Refits the fleet-wide pooled model (one ridge per horizon across every series) when it is
   * older than the retrain period: it learns the mean reversion no single short series shows.
   */
  refreshPooled(histories: ReadonlyArray<readonly number[]>): void {
    if (!this.pooledDue()) return;
    try {
      const model = fitPooledLinear(histories, { horizons: this.horizons() });
      if (model) this.pooled = { model, fittedAt: this.now() };
    } catch (err) {
      this.o.log.warn("Pooled model fit failed", { error: errorMessage(err) });
    }
  }

  /**
   * refreshPooled for the control loop: the fit runs on a worker thread and this returns at once; rounds forecast with
   * the model they have (none before the first fit ends: `global-linear` is then not a candidate) until the new one is
   * in. At 20,000 series a fit is ~4 s of CPU: in the round, it made a round every retrain period take 4–6 s and held
   * the leader's ingest and API as long (bench:scale at 1,000 nodes). bench:forecast keeps the synchronous form.
   */
  refreshPooledInBackground(histories: ReadonlyArray<readonly number[]>): void {
    if (this.fitting || !this.pooledDue()) return;
    const startedAt = this.now();
    const fit = this.o.fitPooled ?? fitPooledOffThread;
    this.fitting = fit({ histories, opts: { horizons: this.horizons() } })
      .then((model) => {
        if (model) this.pooled = { model, fittedAt: startedAt };
      })
      .catch((err: unknown) => {
        this.o.log.warn("Pooled model fit failed", { error: errorMessage(err) });
      })
      .finally(() => {
        this.fitting = undefined;
      });
  }

  /** No pooled model yet, or one older than the retrain period. */
  private pooledDue(): boolean {
    return !this.pooled || this.now() - this.pooled.fittedAt >= this.o.retrainMs;
  }

  /** Horizons 1…horizon, one model each. */
  private horizons(): number[] {
    return Array.from({ length: this.o.horizon }, (_, k) => k + 1);
  }

  /** Settles when the background fit in progress (if any) has ended. */
  async pooledFitSettled(): Promise<void> {
    await this.fitting;
  }

  /** The current pooled model, if one could be fitted (for `herd forecast`). */
  pooledModel(): PooledLinearModel | undefined {
    return this.pooled?.model;
  }

  /** Starts a planning round: bounds how many series may be retrained in it. */
  beginRound(): void {
    this.trainsLeft = this.o.trainsPerRound ?? 4;
  }

  async forecast(key: string, history: readonly number[]): Promise<{ values: number[]; model: ForecasterName; perHorizon?: ForecasterName[]; reason: string }> {
    const minPoints = this.o.minPoints ?? 30;
    // A short series is forecast by the baseline whatever is saved: no look-up in the model store (at 20,000 young series that
    // was 20,000 Redis reads per round, bench:scale).
    if (history.length < minPoints) {
      const ewma = createForecaster("ewma", { metric: "cpu" });
      return { values: ewma.predict(history, this.o.horizon), model: "ewma", reason: `only ${history.length} points (< ${minPoints}): EWMA baseline` };
    }
    let entry = this.entries.get(key) ?? (await this.restore(key));
    if ((!entry || this.now() - entry.trainedAt >= this.o.retrainMs) && this.trainsLeft > 0) {
      this.trainsLeft--;
      entry = (await this.train(key, history)) ?? entry;
    }
    if (!entry) {
      const ewma = createForecaster("ewma", { metric: "cpu" });
      return { values: ewma.predict(history, this.o.horizon), model: "ewma", reason: "training failed: EWMA baseline" };
    }
    const byModel = new Map([...entry.models].map(([name, m]) => [name, m.predict(history, this.o.horizon)]));
    const values = entry.perHorizon.map((name, k) => byModel.get(name)![k]!);
    return { values, model: entry.chosen, perHorizon: entry.perHorizon, reason: entry.reason };
  }

  /**
   * bench:forecast's set-up and choice rule (FORECAST_SETUP, choosePerHorizon): rolling-origin
   * validation of every candidate, then per horizon the lowest MAE, `global-linear` kept unless
   * another model is better by more than the margin. Each chosen model is fitted on the history.
   */
  private async train(key: string, history: readonly number[]): Promise<Entry | undefined> {
    try {
      const pooled = this.pooled?.model;
      const live = liveReportOptions(pooled);
      const maxHistory = this.o.maxHistory ?? Number.POSITIVE_INFINITY;
      const report = forecastReport(
        { metric: "cpu", values: history },
        { ...live, ...(this.o.models ? { models: this.o.models } : {}), horizon: this.o.horizon, maxHistory, backtestPoints: 0 },
      );
      const horizons = this.horizons();
      const perHorizon = choiceByHorizon(report, horizons, live.prefer);
      const fitted = new Map<ForecasterName, PersistableForecaster>();
      for (const name of new Set(perHorizon)) {
        const model = createForecaster(name, { metric: "cpu", horizons, selected: report.selected, ...(pooled ? { pooled } : {}) });
        model.fit(history.slice(-maxHistory));
        fitted.set(name, model);
      }
      const counts = new Map<ForecasterName, number>();
      for (const n of perHorizon) counts.set(n, (counts.get(n) ?? 0) + 1);
      const chosen = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      const reason = report.validation
        ? `per horizon (rolling-origin MAE${pooled ? `, ${"global-linear"} kept unless beaten by > ${FORECAST_SETUP.margin * 100} %` : ""}): ${perHorizon.map((n, k) => `h${k + 1} ${n}`).join(", ")}`
        : report.chosen.reason;
      const entry: Entry = { models: fitted, perHorizon, chosen, reason, trainedAt: this.now() };
      this.entries.set(key, entry);
      this.missing.delete(key);
      await this.o.store.save(key, fitted.get(chosen)!).catch((err: unknown) => this.o.log.warn("Could not persist model", { key, error: errorMessage(err) }));
      return entry;
    } catch (err) {
      this.o.log.warn("Forecaster training failed", { key, error: errorMessage(err) });
      return undefined;
    }
  }

  private async restore(key: string): Promise<Entry | undefined> {
    // A series found without a saved model is looked up again only after a retrain period (another replica may save one).
    const missedAt = this.missing.get(key);
    if (missedAt !== undefined && this.now() - missedAt < this.o.retrainMs) return undefined;
    const model = await this.o.store.load(key).catch(() => undefined);
    if (!model) {
      this.missing.set(key, this.now());
      return undefined;
    }
    this.missing.delete(key);
    // Trusted until the next retrain period from now: it was trained before the restart.
    // Only the model chosen for the most horizons is persisted: it forecasts every horizon until the next retrain.
    const entry: Entry = {
      models: new Map([[model.name, model]]),
      perHorizon: Array.from({ length: this.o.horizon }, () => model.name),
      chosen: model.name,
      reason: "restored from the model store",
      trainedAt: this.now(),
    };
    this.entries.set(key, entry);
    return entry;
  }

  /** When the series' models were last trained (or restored); undefined before the first time. */
  trainedAt(key: string): number | undefined {
    return this.entries.get(key)?.trainedAt;
  }

  forget(keep: ReadonlySet<string>): void {
    for (const k of this.entries.keys()) if (!keep.has(k)) this.entries.delete(k);
    for (const k of this.missing.keys()) if (!keep.has(k)) this.missing.delete(k);
  }
}
