import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTROL_GAINS, CONTROL_LIMITS, PidController } from "./pid-controller.js";

describe("PidController", () => {
  const cases: Array<{
    name: string;
    target: number;
    measurements: number[];
    expect: Array<Partial<{ p: number; i: number; output: number; saturated: boolean; saturatedRounds: number }>>;
  }> = [
    {
      name: "on target: no output",
      target: 20,
      measurements: [20, 20],
      expect: [{ p: 0, i: 0, output: 0, saturatedRounds: 0 }, { output: 0 }],
    },
    {
      name: "10 ms over target: P = 20, I grows by Ki·e per second",
      target: 20,
      measurements: [30, 30],
      // second round: derivative 0 (same measurement)
      expect: [
        { p: 20, i: 0.5, output: 20.5 },
        { p: 20, i: 1, output: 21 },
      ],
    },
    {
      name: "far over target: clamped at 200 and counted as saturated",
      target: 20,
      measurements: [200, 200, 200, 25],
      expect: [
        { output: 200, saturated: true, saturatedRounds: 1 },
        { output: 200, saturatedRounds: 2 },
        { output: 200, saturatedRounds: 3 },
        { saturated: false, saturatedRounds: 0 },
      ],
    },
    {
      name: "far under target: clamped at −50, never saturated (there is capacity to give back)",
      target: 100,
      measurements: [10, 10],
      expect: [
        { output: -50, saturated: false, saturatedRounds: 0 },
        { output: -50, saturatedRounds: 0 },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pid = new PidController();
      c.measurements.forEach((m, k) => {
        const s = pid.step(c.target, m, 1);
        const want = c.expect[k] ?? {};
        for (const [key, value] of Object.entries(want)) {
          const got = s[key as keyof typeof s];
          if (typeof value === "number") assert.ok(Math.abs(Number(got) - value) < 1e-3, `round ${k} ${key}: got ${got}, want ${value}`);
          else assert.equal(got, value, `round ${k} ${key}`);
        }
      });
    });
  }

  it("derivative acts on the measurement with Kd = 0.0001", () => {
    const pid = new PidController();
    pid.step(20, 20, 1);
    const s = pid.step(20, 30, 0.5);
    assert.ok(Math.abs(s.d - (-CONTROL_GAINS.kd * 10) / 0.5) < 1e-12);
  });

  it("anti-windup: after a long saturation the integral is at most the upper limit, and recovery is prompt", () => {
    const pid = new PidController();
    for (let k = 0; k < 10_000; k++) pid.step(20, 500, 1);
    const last = pid.step(20, 500, 1);
    assert.equal(last.i, CONTROL_LIMITS.max);
    // Without clamping the integral would hold ≈ 0.05·480·10000 = 240000 and take hours to unwind.
    let rounds = 0;
    while (pid.step(20, 5, 1).output > 0) rounds++;
    assert.ok(rounds < 300, `unwound in ${rounds} rounds`);
  });

  it("step response: latency over a shaped link, measured in % of target with setpoint 80 %, settles inside the target", () => {
    // Plant: latency = S / rate with rate = base·(1 + u/100), as the PID guard drives it; the
    // guard smooths the measurement (EWMA 0.5). The link needs 1.6× its base rate for the target.
    const target = 25;
    const base = 1000 / target / 1.6;
    const pid = new PidController();
    let latency = 1000 / base;
    let smoothed = latency;
    const trace: number[] = [];
    for (let k = 0; k < 120; k++) {
      smoothed = 0.5 * latency + 0.5 * smoothed;
      const { output } = pid.step(80, (100 * smoothed) / target, 1);
      latency = 1000 / (base * (1 + output / 100));
      trace.push(latency);
    }
    assert.ok((trace[0] ?? Infinity) < 1000 / base, "the first step already lowers latency");
    for (const l of trace.slice(60)) assert.ok(l <= target, `inside the target after 60 s: ${l}`);
    assert.ok(Math.abs((trace.at(-1) ?? 0) - 0.8 * target) < 1.5, `converging to the setpoint: ${trace.at(-1)}`);
  });

  it("setLimits shrinks the range and clamps the integral; bad limits are refused", () => {
    const pid = new PidController();
    for (let k = 0; k < 100; k++) pid.step(20, 200, 1);
    pid.setLimits({ min: -50, max: 40 });
    const s = pid.step(20, 200, 1);
    assert.equal(s.output, 40);
    assert.ok(s.i <= 40);
    assert.throws(() => pid.setLimits({ min: 5, max: 5 }), RangeError);
    assert.throws(() => pid.step(20, Number.NaN, 1), RangeError);
    assert.throws(() => pid.step(20, 1, 0), RangeError);
  });

  it("reset forgets integral and saturation", () => {
    const pid = new PidController();
    for (let k = 0; k < 5; k++) pid.step(20, 500, 1);
    assert.equal(pid.saturatedRounds, 5);
    pid.reset();
    assert.equal(pid.saturatedRounds, 0);
    assert.equal(pid.step(20, 20, 1).output, 0);
  });
});
