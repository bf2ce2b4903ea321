import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeartbeatSchedule } from "./heartbeat-schedule.js";

describe("HeartbeatSchedule", () => {
  const facts = JSON.stringify({ address: "10.77.0.2", agentVersion: "0.1.0" });

  it("sends the first heartbeat, then none while telemetry keeps being confirmed", () => {
    const s = new HeartbeatSchedule(2_000, 30_000);
    assert.equal(s.due(0, facts), true);
    s.sent(0, facts);
    for (let t = 1_000; t < 30_000; t += 1_000) {
      s.telemetryConfirmed(t - 300);
      if (t % 2_000 === 0) assert.equal(s.due(t, facts), false, `at ${t} ms`);
    }
  });

  it("sends one when no telemetry was confirmed within an interval, as the only liveness signal", () => {
    const s = new HeartbeatSchedule(2_000, 30_000);
    s.sent(0, facts);
    s.telemetryConfirmed(1_000);
    assert.equal(s.due(2_000, facts), false);
    assert.equal(s.due(3_000, facts), true, "telemetry last confirmed 2 s ago");
    assert.equal(new HeartbeatSchedule(2_000, 30_000).due(0, facts), true, "never any telemetry");
  });

  it("keeps the gap between liveness signals within one heartbeat plus one telemetry interval when telemetry stops", () => {
    const s = new HeartbeatSchedule(2_000, 30_000);
    s.sent(0, facts);
    let lastSignal = 0;
    let worstGap = 0;
    for (let t = 0; t <= 20_000; t += 100) {
      if (t <= 9_000 && t % 1_000 === 0) {
        s.telemetryConfirmed(t);
        worstGap = Math.max(worstGap, t - lastSignal);
        lastSignal = t;
      }
      if (t % 2_000 === 0 && s.due(t, facts)) {
        s.sent(t, facts);
        worstGap = Math.max(worstGap, t - lastSignal);
        lastSignal = t;
      }
    }
    assert.ok(lastSignal >= 18_000, `heartbeats resumed after telemetry stopped (last signal at ${lastSignal} ms)`);
    // The tick just after the last batch still skips (it was confirmed 1 s before), the next one sends: 2 s + 1 s,
    // well inside the control's 6 s HERD_NODE_DOWN_AFTER_MS.
    assert.ok(worstGap <= 3_000, `worst gap ${worstGap} ms`);
  });

  it("sends when the facts change and at least every refresh period", () => {
    const s = new HeartbeatSchedule(2_000, 30_000);
    s.sent(0, facts);
    s.telemetryConfirmed(9_500);
    assert.equal(s.due(10_000, JSON.stringify({ address: "10.77.0.3" })), true, "facts changed");
    s.telemetryConfirmed(29_900);
    assert.equal(s.due(28_000, facts), false);
    assert.equal(s.due(30_000, facts), true, "refresh");
  });

  it("retries a heartbeat the broker did not confirm", () => {
    const s = new HeartbeatSchedule(2_000, 30_000);
    assert.equal(s.due(0, facts), true);
    s.telemetryConfirmed(1_500);
    assert.equal(s.due(2_000, facts), true, "the first was never confirmed");
  });
});
