import type { Forecaster } from "./forecaster.js";

/** Last value: tomorrow looks like today. */
export class LastValueForecaster implements Forecaster {
  readonly name = "last" as const;
  fit(): void {}
  toJSON(): BaselineJSON {
    return { kind: "herd-forecaster", version: 1, name: "last" };
  }
  predict(recent: readonly number[], horizon: number): number[] {
    const last = recent.length ? recent[recent.length - 1]! : 0;
    return Array.from({ length: horizon }, () => last);
  }
}

/**
 * EWMA as in ResCoin: e_t = α·x_t + (1−α)·e_{t−1}; α = 0.7 for CPU, 0.8 for memory and disk.
 * The forecast is flat at the last smoothed value for every horizon.
 */
export class EwmaForecaster implements Forecaster {
  readonly name = "ewma" as const;
  constructor(readonly alpha = 0.7) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`ewma alpha must be in (0, 1], got ${alpha}`);
  }
  fit(): void {}
  toJSON(): BaselineJSON {
    return { kind: "herd-forecaster", version: 1, name: "ewma", alpha: this.alpha };
  }
  predict(recent: readonly number[], horizon: number): number[] {
    let e = recent.length ? recent[0]! : 0;
    for (let i = 1; i < recent.length; i++) e = this.alpha * recent[i]! + (1 - this.alpha) * e;
    return Array.from({ length: horizon }, () => e);
  }
}

/** Serialized baseline: nothing is learned, only the name (and α). */
export interface BaselineJSON {
  kind: "herd-forecaster";
  version: 1;
  name: "last" | "ewma";
  alpha?: number;
}

/** ResCoin's α per metric: 0.7 for CPU, 0.8 for memory and disk (and, by default, anything else). */
export function ewmaAlphaFor(metric: string): number {
  return /cpu/i.test(metric) ? 0.7 : 0.8;
}
