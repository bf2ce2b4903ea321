/**
 * CONtrol's PID controller as a pure unit (no clock, no I/O): the caller gives the measurement and
 * the time step; the controller keeps its integral, last measurement and saturation count.
 *
 * Form (the one of the `simple-pid` library CONtrol's constants come from):
 *   error = measured − target      (positive: the service is too slow, it needs more capacity)
 *   P = Kp·error
 *   I += Ki·error·dt, clamped to the output limits (anti-windup: the integral never holds more
 *        than the output could use)
 *   D = −Kd·d(measured)/dt           (derivative on measurement: no kick when the target changes)
 *   output = clamp(P + I + D, min, max)
 * Saturation: the output was clipped at the upper limit while the error was still positive —
 * the controller asked for more than it may give. `saturatedRounds` counts consecutive such
 * rounds and drops to 0 at the first round that is not.
 */
export interface PidGains {
  kp: number;
  ki: number;
  kd: number;
}

export interface PidLimits {
  min: number;
  max: number;
}

/** DESIGN.md: Kp = 2, Ki = 0.05, Kd = 0.0001, output (−50, 200), 1 s period, 3 saturated rounds. */
export const CONTROL_GAINS: PidGains = { kp: 2, ki: 0.05, kd: 0.0001 };
export const CONTROL_LIMITS: PidLimits = { min: -50, max: 200 };
export const CONTROL_SATURATION_ROUNDS = 3;

export interface PidStep {
  error: number;
  p: number;
  i: number;
  d: number;
  /** Before clamping. */
  raw: number;
  output: number;
  saturated: boolean;
  saturatedRounds: number;
}

export class PidController {
  private integral = 0;
  private lastMeasured: number | undefined;
  private saturatedCount = 0;
  private lastOutput = 0;

  constructor(
    private readonly gains: PidGains = CONTROL_GAINS,
    private limits: PidLimits = CONTROL_LIMITS,
  ) {
    if (!(limits.min < limits.max)) throw new RangeError(`output limits must have min < max, got (${limits.min}, ${limits.max})`);
  }

  /**
   * The upper limit can shrink at run time (e.g. the storage neighbour's guaranteed minimum leaves
   * less to shift); the integral is clamped to the new range at once.
   */
  setLimits(limits: PidLimits): void {
    if (!(limits.min < limits.max)) throw new RangeError(`output limits must have min < max, got (${limits.min}, ${limits.max})`);
    this.limits = limits;
    this.integral = clamp(this.integral, limits.min, limits.max);
  }

  get output(): number {
    return this.lastOutput;
  }

  get saturatedRounds(): number {
    return this.saturatedCount;
  }

  step(target: number, measured: number, dtSeconds: number): PidStep {
    if (!Number.isFinite(measured) || !Number.isFinite(target)) throw new RangeError(`target and measurement must be finite, got ${target}, ${measured}`);
    if (!(dtSeconds > 0)) throw new RangeError(`dt must be positive, got ${dtSeconds}`);
    const { kp, ki, kd } = this.gains;
    const error = measured - target;
    const p = kp * error;
    this.integral = clamp(this.integral + ki * error * dtSeconds, this.limits.min, this.limits.max);
    const d = this.lastMeasured === undefined ? 0 : (-kd * (measured - this.lastMeasured)) / dtSeconds;
    this.lastMeasured = measured;
    const raw = p + this.integral + d;
    const output = clamp(raw, this.limits.min, this.limits.max);
    const saturated = raw >= this.limits.max && error > 0;
    this.saturatedCount = saturated ? this.saturatedCount + 1 : 0;
    this.lastOutput = output;
    return { error, p, i: this.integral, d, raw, output, saturated, saturatedRounds: this.saturatedCount };
  }

  /** Forget history (after a migration request, or when the pair changes). */
  reset(): void {
    this.integral = 0;
    this.lastMeasured = undefined;
    this.saturatedCount = 0;
    this.lastOutput = 0;
  }
}

export function clamp(v: number, min: number, max: number): number {
  return v < min ? min : v > max ? max : v;
}
