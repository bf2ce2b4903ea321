import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePlan } from "./redis-state-store.js";

describe("parsePlan", () => {
  it("reads the compact form: value k is interval b + k; an empty value is an interval without samples", () => {
    assert.deepEqual(parsePlan("4;12.5,,7,0", 10_000), [
      { t: 40_000, cpuPct: 12.5 },
      { t: 60_000, cpuPct: 7 },
      { t: 70_000, cpuPct: 0 },
    ]);
  });

  it("still reads the older form with a time on every point", () => {
    assert.deepEqual(parsePlan("40000:12.500,60000:7.000", 10_000), [
      { t: 40_000, cpuPct: 12.5 },
      { t: 60_000, cpuPct: 7 },
    ]);
  });

  it("skips what it cannot read and returns nothing for nothing", () => {
    assert.deepEqual(parsePlan("4;x,3", 1_000), [{ t: 5_000, cpuPct: 3 }]);
    assert.deepEqual(parsePlan("b;1,2", 1_000), []);
    assert.deepEqual(parsePlan(null, 1_000), []);
    assert.deepEqual(parsePlan("", 1_000), []);
  });
});
