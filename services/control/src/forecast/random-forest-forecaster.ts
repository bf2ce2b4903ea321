import { RandomForestRegression } from "ml-random-forest";
import { LearnedForecaster, type LearnedForecasterJSON, type LearnedForecasterOptions } from "./learned-forecaster.js";

/** Knobs of ml-random-forest kept small on purpose: its CART is O(rows²) per split search. */
export interface ForestOptions {
  nEstimators: number;
  maxDepth: number;
  minNumSamples: number;
  /** Fraction of features each tree sees (ml-random-forest bags features per tree). */
  maxFeatures: number;
  seed: number;
}

export const DEFAULT_FOREST_OPTIONS: ForestOptions = { nEstimators: 12, maxDepth: 5, minNumSamples: 5, maxFeatures: 0.7, seed: 42 };

export interface RandomForestForecasterOptions extends LearnedForecasterOptions {
  forest?: Partial<ForestOptions>;
}

type ForestJSON = ReturnType<RandomForestRegression["toJSON"]>;

/** Trains an ml-random-forest regression; shared with feature ranking. */
export function trainForest(X: number[][], y: number[], f: ForestOptions): RandomForestRegression {
  const p = X[0]?.length ?? 0;
  const rf = new RandomForestRegression({
    nEstimators: f.nEstimators,
    // An integer count: the library reads 1.0 as "all" but would read e.g. 0.7·1 as zero features.
    maxFeatures: Math.max(1, Math.min(p, Math.round(f.maxFeatures * p))),
    seed: f.seed,
    noOOB: true,
    replacement: false,
    useSampleBagging: true,
    treeOptions: { maxDepth: f.maxDepth, minNumSamples: f.minNumSamples },
  });
  rf.train(X, y);
  return rf;
}

/** ml-random-forest regression on the (selected) features, one forest per horizon. */
export class RandomForestForecaster extends LearnedForecaster<RandomForestRegression, ForestJSON> {
  readonly name = "random-forest" as const;
  readonly forest: ForestOptions;
  constructor(opts: RandomForestForecasterOptions = {}) {
    super({ trainWindow: 200, ...opts });
    this.forest = { ...DEFAULT_FOREST_OPTIONS, ...opts.forest };
  }
  protected trainModel(X: number[][], y: number[]): RandomForestRegression {
    return trainForest(X, y, this.forest);
  }
  protected predictModel(m: RandomForestRegression, rows: number[][]): number[] {
    return m.predict(rows);
  }
  protected modelToJSON(m: RandomForestRegression): ForestJSON {
    return m.toJSON();
  }
  protected modelFromJSON(s: ForestJSON): RandomForestRegression {
    return RandomForestRegression.load(s);
  }
  override toJSON(): LearnedForecasterJSON<ForestJSON> {
    return { ...super.toJSON(), extra: { forest: this.forest } };
  }
  static fromJSON(json: LearnedForecasterJSON<ForestJSON>): RandomForestForecaster {
    const extra = json.extra as { forest?: ForestOptions } | undefined;
    return new RandomForestForecaster({ ...json.options, ...(extra?.forest ? { forest: extra.forest } : {}) }).restore(json);
  }
}
