import { CholeskyDecomposition, Matrix } from "ml-matrix";

/** A fitted ridge regression: y ≈ intercept + Σ coef_j · (x_j − mean_j) / scale_j. */
export interface RidgeModel {
  mean: number[];
  scale: number[];
  coef: number[];
  intercept: number;
}

/**
 * Ridge regression on standardized columns, solved in closed form (Cholesky, from ml-matrix). Lags and rolling
 * means are strongly collinear, which makes plain least squares unstable; the penalty
 * `lambda · rows` keeps it well-posed. Constant columns get coefficient 0; the intercept is not
 * penalized, so a constant target is fitted exactly.
 */
export function fitRidge(X: readonly (readonly number[])[], y: readonly number[], lambda = 1e-2, weights?: readonly number[]): RidgeModel {
  const n = X.length;
  // Row weights (IRLS); normalized to sum n so `lambda` means the same with or without them.
  const wsum = weights ? weights.reduce((a, b) => a + b, 0) : n;
  const w = (r: number) => (weights ? (weights[r]! * n) / wsum : 1);
  const p = n ? X[0]!.length : 0;
  if (n === 0) throw new RangeError("ridge: no training rows");
  const mean = new Array<number>(p).fill(0);
  const scale = new Array<number>(p).fill(0);
  X.forEach((row, r) => {
    for (let j = 0; j < p; j++) mean[j]! += (w(r) * row[j]!) / n;
  });
  X.forEach((row, r) => {
    for (let j = 0; j < p; j++) scale[j]! += (w(r) * (row[j]! - mean[j]!) ** 2) / n;
  });
  for (let j = 0; j < p; j++) scale[j] = Math.sqrt(scale[j]!);
  const active = [...Array(p).keys()].filter((j) => scale[j]! > 1e-12 * (1 + Math.abs(mean[j]!)));
  const ym = y.reduce((a, b, r) => a + w(r) * b, 0) / n;
  const k = active.length;
  const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const b = new Array<number>(k).fill(0);
  const z = new Array<number>(k);
  for (let r = 0; r < n; r++) {
    const row = X[r]!;
    for (let a = 0; a < k; a++) z[a] = (row[active[a]!]! - mean[active[a]!]!) / scale[active[a]!]!;
    const yr = y[r]! - ym;
    const wr = w(r);
    for (let a = 0; a < k; a++) {
      b[a]! += wr * z[a]! * yr;
      const Aa = A[a]!;
      for (let c = 0; c <= a; c++) Aa[c]! += wr * z[a]! * z[c]!;
    }
  }
  for (let a = 0; a < k; a++) A[a]![a]! += lambda * n;
  const beta = choleskySolve(A, b);
  const coef = new Array<number>(p).fill(0);
  active.forEach((j, a) => (coef[j] = beta[a]!));
  return { mean, scale: scale.map((s, j) => (coef[j] === 0 ? 1 : s)), coef, intercept: ym };
}

export function predictRidge(m: RidgeModel, row: readonly number[]): number {
  let v = m.intercept;
  for (let j = 0; j < m.coef.length; j++) if (m.coef[j] !== 0) v += (m.coef[j]! * (row[j]! - m.mean[j]!)) / m.scale[j]!;
  return v;
}

/**
 * Solves A x = b for symmetric positive-definite A given by its lower triangle, with ml-matrix's
 * Cholesky decomposition (A + λnI is positive definite for λ > 0).
 */
function choleskySolve(A: number[][], b: number[]): number[] {
  const k = b.length;
  if (k === 0) return [];
  const full = new Matrix(k, k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      full.set(i, j, A[i]![j]!);
      full.set(j, i, A[i]![j]!);
    }
  return new CholeskyDecomposition(full).solve(Matrix.columnVector(b)).getColumn(0);
}

/**
 * Least-absolute-deviation ridge by iteratively reweighted least squares. Utilization is skewed
 * (idle most of the time, short spikes): the squared loss chases the spikes, the absolute loss
 * forecasts the median, which is what a MAE-judged forecast should aim at.
 */
export function fitRidgeAbsolute(X: readonly (readonly number[])[], y: readonly number[], lambda = 1e-2, iterations = 6, minResidual?: number): RidgeModel {
  let m = fitRidge(X, y, lambda);
  for (let it = 0; it < iterations; it++) {
    const res = X.map((row, r) => Math.abs(y[r]! - predictRidge(m, row)));
    const scale = res.reduce((a, b) => a + b, 0) / res.length;
    // Residuals below `eps` weigh as if they were `eps`: exact fits (idle series sitting at 0) would otherwise take over.
    const eps = minResidual ?? Math.max(1e-6, 1e-3 * scale);
    m = fitRidge(
      X,
      y,
      lambda,
      res.map((e) => 1 / Math.max(e, eps)),
    );
  }
  return m;
}
