import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { powerAt } from "./snapshot-index.js";

// HP ProLiant ML110 G5 (CloudSim's PowerModelSpecPowerHpProLiantMl110G5Xeon3075).
const G5 = [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135];

describe("powerAt", () => {
  it("is linear between the table's points and exact on them", () => {
    assert.equal(powerAt(G5, 0), 93.7);
    assert.equal(powerAt(G5, 0.3), 105);
    assert.equal(powerAt(G5, 1), 135);
    assert.ok(Math.abs(powerAt(G5, 0.25) - 103) < 1e-9);
    assert.equal(powerAt(G5, 1.5), 135, "clamped to the table");
  });

  it("rounds as CloudSim 3.0.3's PowerModelSpecPower.getPower does, bit for bit", () => {
    // Outputs of CloudSim's own getPower (Java, cloudsim-3.0.3) for these utilizations; the
    // textbook form p1 + (p2 - p1)·(10u - lo) differs from each in the last bit. PABFD compares
    // power increases that are equal up to rounding, so this decides which host CloudSim picks.
    const cloudsim: [number, number][] = [
      [0.6949479796024919, 124.79791918409968],
      [0.7439844862373166, 126.75937944949267],
      [0.9763157894736842, 134.52631578947367],
    ];
    for (const [u, watts] of cloudsim) assert.equal(powerAt(G5, u), watts, `u = ${u}`);
  });
});
