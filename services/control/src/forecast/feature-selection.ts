import { seededRandom } from "../../../../shared/src/seeded-random.js";
import { trainForest, DEFAULT_FOREST_OPTIONS, type ForestOptions } from "./random-forest-forecaster.js";
import type { Design } from "./features.js";

/** One feature's importance: how much the held-out MAE grows (relative) when its column is shuffled. */
export interface FeatureImportance {
  feature: string;
  importance: number;
}

export interface RankOptions {
  /** Fraction of rows (the latest) held out to measure importance on. */
  holdout: number;
  /** Shuffles per feature, averaged. */
  repeats: number;
  /** Rows used at most (the latest), to bound cost. */
  maxRows: number;
  forest: ForestOptions;
  seed: number;
}

export const DEFAULT_RANK_OPTIONS: RankOptions = { holdout: 0.3, repeats: 3, maxRows: 240, forest: DEFAULT_FOREST_OPTIONS, seed: 7 };

export { seededRandom } from "../../../../shared/src/seeded-random.js";

function maeOf(pred: readonly number[], y: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(pred[i]! - y[i]!);
  return s / y.length;
}

/**
 * Permutation importance of every column of `design` for a random forest trained on the older
 * rows and scored on the latest ones (chronological split: shuffling the future into the past
 * would flatter lag features). Importance = (MAE with the column shuffled − MAE) / MAE, so 0.1
 * means "the forecast gets 10 % worse without it"; ≤ 0 means the feature does not help.
 * Returns features sorted by importance, highest first. Pure and deterministic (seeded).
 */
export function rankFeatures(design: Design, opts: Partial<RankOptions> = {}): FeatureImportance[] {
  const o = { ...DEFAULT_RANK_OPTIONS, ...opts };
  const start = Math.max(0, design.X.length - o.maxRows);
  const X = design.X.slice(start);
  const y = design.y.slice(start).map((v, r) => v - design.base[start + r]!);
  const nTest = Math.max(1, Math.round(X.length * o.holdout));
  const nTrain = X.length - nTest;
  if (nTrain < 10) return design.names.map((feature) => ({ feature, importance: 0 }));
  const rf = trainForest(X.slice(0, nTrain), y.slice(0, nTrain), o.forest);
  const Xt = X.slice(nTrain);
  const yt = y.slice(nTrain);
  const base = maeOf(rf.predict(Xt), yt);
  const rnd = seededRandom(o.seed);
  const scale = base > 1e-12 ? base : 1;
  const out = design.names.map((feature, j) => {
    let sum = 0;
    for (let r = 0; r < o.repeats; r++) {
      const col = Xt.map((row) => row[j]!);
      for (let i = col.length - 1; i > 0; i--) {
        const k = Math.floor(rnd() * (i + 1));
        [col[i], col[k]] = [col[k]!, col[i]!];
      }
      const shuffled = Xt.map((row, i) => {
        const c = row.slice();
        c[j] = col[i]!;
        return c;
      });
      sum += maeOf(rf.predict(shuffled), yt) - base;
    }
    return { feature, importance: sum / o.repeats / scale };
  });
  return out.sort((a, b) => b.importance - a.importance || a.feature.localeCompare(b.feature));
}

export interface SelectOptions {
  /** Keep at most this many features. */
  topK: number;
  /** Stop once the kept features hold this share of the total positive importance. */
  cumulative: number;
  /** Always keep at least this many (the best ones), even when importances are ≤ 0. */
  minKeep: number;
}

export const DEFAULT_SELECT_OPTIONS: SelectOptions = { topK: 10, cumulative: 0.95, minKeep: 3 };

/** Picks the features that matter from a ranking: positive importance, cumulative share, top-k. */
export function selectFeatures(ranking: readonly FeatureImportance[], opts: Partial<SelectOptions> = {}): string[] {
  const o = { ...DEFAULT_SELECT_OPTIONS, ...opts };
  const sorted = [...ranking].sort((a, b) => b.importance - a.importance);
  const total = sorted.reduce((s, f) => s + Math.max(0, f.importance), 0);
  const keep: string[] = [];
  let acc = 0;
  for (const f of sorted) {
    if (keep.length >= o.topK) break;
    if (keep.length >= o.minKeep && (f.importance <= 0 || (total > 0 && acc >= o.cumulative * total))) break;
    keep.push(f.feature);
    acc += Math.max(0, f.importance);
  }
  return keep;
}
