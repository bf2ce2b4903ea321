import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { iqr, mad, median, olsOnIndex, percentileSorted } from "./overload-stats.js";

describe("overload statistics (CloudSim / Apache Commons Math semantics)", () => {
  it("median of odd and even lengths", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
  it("legacy percentile clamps at the ends", () => {
    assert.equal(percentileSorted([1, 2, 3, 4], 1), 1);
    assert.equal(percentileSorted([1, 2, 3, 4], 99), 4);
  });
  it("MAD", () => assert.equal(mad([1, 1, 2, 2, 4, 6, 9]), 1));
  it("IQR uses CloudSim's rounded quartile positions", () => {
    // n = 12: q1 = round(3.25) - 1 = 2, q3 = round(9.75) - 1 = 9
    assert.equal(iqr([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), 10 - 3);
  });
  it("OLS recovers a line", () => {
    const [a, b] = olsOnIndex([3, 5, 7, 9]);
    assert.ok(Math.abs(a - 1) < 1e-12 && Math.abs(b - 2) < 1e-12);
  });
});
