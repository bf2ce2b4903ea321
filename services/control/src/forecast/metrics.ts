/** Error accumulator for forecasts vs actual values; NaN when nothing was added. */
export class ErrorStats {
  private n = 0;
  private absSum = 0;
  private sqSum = 0;
  add(forecast: number, actual: number): void {
    const e = forecast - actual;
    this.n++;
    this.absSum += Math.abs(e);
    this.sqSum += e * e;
  }
  merge(o: ErrorStats): void {
    this.n += o.n;
    this.absSum += o.absSum;
    this.sqSum += o.sqSum;
  }
  get count(): number {
    return this.n;
  }
  get mae(): number {
    return this.n ? this.absSum / this.n : NaN;
  }
  get rmse(): number {
    return this.n ? Math.sqrt(this.sqSum / this.n) : NaN;
  }
}

export function mae(forecast: readonly number[], actual: readonly number[]): number {
  const s = new ErrorStats();
  forecast.forEach((f, i) => s.add(f, actual[i]!));
  return s.mae;
}
