import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderPlan, type PlanView } from "./brain-commands.js";

const plan = (extra: Partial<PlanView> = {}): PlanView => ({
  policy: "threshold",
  args: { cpuThreshold: 0.8 },
  nodes: [{ id: "n1", up: true, cpuPct: 91.5, memPct: 40, containers: 3 }],
  proposals: [],
  planned: { allowed: [{ containerId: "0123456789abcdef", from: "n1", to: "n2", reason: "n1 over 80 % CPU" }], rejected: [] },
  forecastModels: {},
  ...extra,
});

describe("herd plan", () => {
  it("says where the round's time went when the control reports it", () => {
    const out = renderPlan(plan({ tookMs: { listing: 310, series: 420, forecast: 250, decide: 20 } }));
    assert.match(out, /0123456789ab\s+n1\s+n2\s+n1 over 80 % CPU/);
    assert.match(out, /Planned in 1\.00 s \(reading nodes and containers 310 ms, CPU series 420 ms, forecasting 250 ms, deciding 20 ms\)/);
  });

  it("prints no timing line for a control that does not report one", () => {
    assert.doesNotMatch(renderPlan(plan()), /Planned in/);
  });
});
