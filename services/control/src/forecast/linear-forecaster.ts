import { LearnedForecaster, type LearnedForecasterJSON, type LearnedForecasterOptions } from "./learned-forecaster.js";
import { fitRidge, predictRidge, type RidgeModel } from "./ridge.js";

export interface LinearForecasterOptions extends LearnedForecasterOptions {
  /** Ridge penalty on standardized features (per row). */
  lambda?: number;
}

/** Ridge regression on the (selected) features, one model per horizon. Cheap: O(rows · features²). */
export class LinearForecaster extends LearnedForecaster<RidgeModel, RidgeModel> {
  readonly name = "linear" as const;
  private readonly lambda: number;
  constructor(opts: LinearForecasterOptions = {}) {
    super(opts);
    this.lambda = opts.lambda ?? 1e-2;
  }
  protected trainModel(X: number[][], y: number[]): RidgeModel {
    return fitRidge(X, y, this.lambda);
  }
  protected predictModel(m: RidgeModel, rows: number[][]): number[] {
    return rows.map((r) => predictRidge(m, r));
  }
  protected modelToJSON(m: RidgeModel): RidgeModel {
    return m;
  }
  protected modelFromJSON(s: RidgeModel): RidgeModel {
    return s;
  }
  override toJSON(): LearnedForecasterJSON<RidgeModel> {
    return { ...super.toJSON(), extra: { lambda: this.lambda } };
  }
  static fromJSON(json: LearnedForecasterJSON<RidgeModel>): LinearForecaster {
    const extra = json.extra as { lambda?: number } | undefined;
    return new LinearForecaster({ ...json.options, ...(extra?.lambda !== undefined ? { lambda: extra.lambda } : {}) }).restore(json);
  }
}
