import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { forecastReport } from "../forecast/forecast-report.js";
import type { ForecasterName } from "../forecast/forecaster.js";
import { createForecaster, type PersistableForecaster } from "../forecast/model-codec.js";
import type { ModelStore } from "../forecast/model-store.js";
import { fitPooledLinear, type PooledLinearModel } from "../forecast/global-linear-forecaster.js";

interface Entry {
  model: PersistableForecaster;
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
   * Candidate models. Training runs on the control service's event loop, so the default leaves
   * out the random forest (seconds per series); `herd forecast` still shows it.
   */
  models?: readonly ForecasterName[];
  /** Retrains allowed per `beginRound()`; the other stale series keep their model until the next round. */
  trainsPerRound?: number;
  now?: () => number;
}

/**
 * Per-series forecasts for the control loop. A series' model is chosen by rolling-origin
 * validation and trained at most every `retrainMs`; between retrains the trained model just
 * predicts. Trained models are saved in the model store, so a restarted control service
 * forecasts with them at once.
 */
export class ForecastCache {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private trainsLeft = Infinity;
  private pooled?: { model: PooledLinearModel; fittedAt: number };

  constructor(private readonly o: ForecastCacheOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * Refits the fleet-wide pooled model (one ridge per horizon across every series) when it is
   * older than the retrain period: it learns the mean reversion no single short series shows.
   */
  refreshPooled(histories: ReadonlyArray<readonly number[]>): void {
    if (this.pooled && this.now() - this.pooled.fittedAt < this.o.retrainMs) return;
    try {
      const model = fitPooledLinear(histories, { horizons: Array.from({ length: this.o.horizon }, (_, k) => k + 1) });
      if (model) this.pooled = { model, fittedAt: this.now() };
    } catch (err) {
      this.o.log.warn("Pooled model fit failed", { error: errorMessage(err) });
    }
  }

  /** The current pooled model, if one could be fitted (for `herd forecast`). */
  pooledModel(): PooledLinearModel | undefined {
    return this.pooled?.model;
  }

  /** Starts a planning round: bounds how many series may be retrained in it. */
  beginRound(): void {
    this.trainsLeft = this.o.trainsPerRound ?? 4;
  }

  async forecast(key: string, history: readonly number[]): Promise<{ values: number[]; model: ForecasterName; reason: string }> {
    const minPoints = this.o.minPoints ?? 30;
    let entry = this.entries.get(key) ?? (await this.restore(key));
    if (history.length < minPoints) {
      const ewma = createForecaster("ewma", { metric: "cpu" });
      return { values: ewma.predict(history, this.o.horizon), model: "ewma", reason: `only ${history.length} points (< ${minPoints}): EWMA baseline` };
    }
    if ((!entry || this.now() - entry.trainedAt >= this.o.retrainMs) && this.trainsLeft > 0) {
      this.trainsLeft--;
      entry = (await this.train(key, history)) ?? entry;
    }
    if (!entry) {
      const ewma = createForecaster("ewma", { metric: "cpu" });
      return { values: ewma.predict(history, this.o.horizon), model: "ewma", reason: "training failed: EWMA baseline" };
    }
    return { values: entry.model.predict(history, this.o.horizon), model: entry.chosen, reason: entry.reason };
  }

  private async train(key: string, history: readonly number[]): Promise<Entry | undefined> {
    try {
      const pooled = this.pooled?.model;
      const models = this.o.models ?? (pooled ? (["last", "ewma", "linear", "global-linear"] as const) : (["last", "ewma", "linear"] as const));
      const report = forecastReport(
        { metric: "cpu", values: history },
        { horizon: this.o.horizon, folds: 2, maxHistory: 240, backtestPoints: 0, models, selectFeatures: false, ...(pooled ? { pooled } : {}) },
      );
      const horizons = Array.from({ length: this.o.horizon }, (_, k) => k + 1);
      const model = createForecaster(report.chosen.name, { metric: "cpu", horizons, selected: report.selected, ...(pooled ? { pooled } : {}) });
      model.fit(history.slice(-240));
      const entry: Entry = { model, chosen: report.chosen.name, reason: report.chosen.reason, trainedAt: this.now() };
      this.entries.set(key, entry);
      await this.o.store.save(key, model).catch((err: unknown) => this.o.log.warn("Could not persist model", { key, error: errorMessage(err) }));
      return entry;
    } catch (err) {
      this.o.log.warn("Forecaster training failed", { key, error: errorMessage(err) });
      return undefined;
    }
  }

  private async restore(key: string): Promise<Entry | undefined> {
    const model = await this.o.store.load(key).catch(() => undefined);
    if (!model) return undefined;
    // Trusted until the next retrain period from now: it was trained before the restart.
    const entry: Entry = { model, chosen: model.name, reason: "restored from the model store", trainedAt: this.now() };
    this.entries.set(key, entry);
    return entry;
  }

  forget(keep: ReadonlySet<string>): void {
    for (const k of this.entries.keys()) if (!keep.has(k)) this.entries.delete(k);
  }
}
