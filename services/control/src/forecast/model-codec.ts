import { ValidationError } from "../../../../shared/src/errors.js";
import { EwmaForecaster, LastValueForecaster, ewmaAlphaFor, type BaselineJSON } from "./baselines.js";
import type { Forecaster, ForecasterName } from "./forecaster.js";
import type { LearnedForecasterJSON } from "./learned-forecaster.js";
import { LinearForecaster, type LinearForecasterOptions } from "./linear-forecaster.js";
import { RandomForestForecaster, type ForestOptions } from "./random-forest-forecaster.js";
import { GlobalLinearForecaster, type GlobalLinearJSON, type PooledLinearModel } from "./global-linear-forecaster.js";

/** A forecaster that can be saved: every Herd forecaster is. */
export type PersistableForecaster = Forecaster & { toJSON(): ForecasterJSON };
export type ForecasterJSON = BaselineJSON | LearnedForecasterJSON | GlobalLinearJSON;

export interface CreateForecasterOptions extends LinearForecasterOptions {
  /** Metric the series measures (`cpu`, `mem`, ...): picks ResCoin's EWMA α. */
  metric?: string;
  forest?: Partial<ForestOptions>;
  /** The fleet-wide model `global-linear` forecasts with (see `fitPooledLinear`). */
  pooled?: PooledLinearModel;
}

/** Builds a forecaster by name with consistent defaults (EWMA α from the metric). */
export function createForecaster(name: ForecasterName, opts: CreateForecasterOptions = {}): PersistableForecaster {
  const alpha = opts.fallbackAlpha ?? ewmaAlphaFor(opts.metric ?? "cpu");
  switch (name) {
    case "last":
      return new LastValueForecaster();
    case "ewma":
      return new EwmaForecaster(alpha);
    case "linear":
      return new LinearForecaster({ ...opts, fallbackAlpha: alpha });
    case "random-forest":
      return new RandomForestForecaster({ ...opts, fallbackAlpha: alpha });
    case "global-linear":
      return new GlobalLinearForecaster({
        fallbackAlpha: alpha,
        ...(opts.pooled ? { pooled: opts.pooled } : {}),
        ...(opts.floor !== undefined ? { floor: opts.floor } : {}),
      });
  }
}

/** Rebuilds a forecaster saved with `toJSON()`; anything else is a ValidationError. */
export function forecasterFromJSON(json: unknown): PersistableForecaster {
  const j = json as Partial<ForecasterJSON> | null;
  if (!j || typeof j !== "object" || j.kind !== "herd-forecaster" || j.version !== 1) {
    throw new ValidationError("model", "not a saved Herd forecaster (kind/version mismatch)");
  }
  switch (j.name) {
    case "last":
      return new LastValueForecaster();
    case "ewma":
      return new EwmaForecaster((j as BaselineJSON).alpha ?? 0.7);
    case "linear":
      return LinearForecaster.fromJSON(j as LearnedForecasterJSON<never>);
    case "random-forest":
      return RandomForestForecaster.fromJSON(j as LearnedForecasterJSON<never>);
    case "global-linear":
      return GlobalLinearForecaster.fromJSON(j as GlobalLinearJSON);
    default:
      throw new ValidationError("model.name", `unknown forecaster "${String(j.name)}"`);
  }
}
