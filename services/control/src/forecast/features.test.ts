import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { buildDesign, featureNames, featureRow, featureWarmup, resolveFeatureOptions, selectColumns, sliceContext } from "./features.js";

const o = resolveFeatureOptions({ target: "cpu", lags: 3, windows: [2, 4], trendWindow: 3 });

describe("feature builder", () => {
  test("names follow the options; covariates sorted, time only with timestamps", () => {
    assert.deepEqual(featureNames(o), [
      "cpu.lag0",
      "cpu.lag1",
      "cpu.lag2",
      "cpu.mean2",
      "cpu.std2",
      "cpu.max2",
      "cpu.mean4",
      "cpu.std4",
      "cpu.max4",
      "cpu.slope3",
    ]);
    const ctx = { t: [0], covariates: { net: [1], mem: [2] } };
    assert.deepEqual(featureNames(o, ctx).slice(10), ["tod.sin", "tod.cos", "mem.lag0", "mem.diff1", "mem.mean2", "net.lag0", "net.diff1", "net.mean2"]);
    assert.equal(featureWarmup(o), 4);
  });

  test("row values are hand-computable", () => {
    const s = [1, 3, 5, 10, 2];
    const row = featureRow(s, 4, o);
    // lags: 2,10,5; mean2=(10+2)/2=6, std2=4, max2=10; mean4=(3+5+10+2)/4=5, std4=sqrt((4+0+25+9)/4), max4=10; slope of [5,10,2] = (2-5)/2 = -1.5
    const expected = [2, 10, 5, 6, 4, 10, 5, Math.sqrt(38 / 4), 10, -1.5];
    expected.forEach((v, j) => assert.ok(Math.abs(row[j]! - v) < 1e-12, `${featureNames(o)[j]}: ${row[j]} ≠ ${v}`));
  });

  test("time of day: 06:00 → sin 1, cos 0; covariates give latest, change, mean", () => {
    const s = [0, 0, 0, 0];
    const row = featureRow(s, 3, o, { t: [0, 0, 0, 6 * 3600], covariates: { mem: [1, 2, 4, 8] } });
    const names = featureNames(o, { t: [], covariates: { mem: [] } });
    const get = (n: string) => row[names.indexOf(n)]!;
    assert.ok(Math.abs(get("tod.sin") - 1) < 1e-12);
    assert.ok(Math.abs(get("tod.cos")) < 1e-12);
    assert.equal(get("mem.lag0"), 8);
    assert.equal(get("mem.diff1"), 4);
    assert.equal(get("mem.mean2"), 6);
  });

  const cases = [
    { horizon: 1, n: 10, rows: 6 },
    { horizon: 3, n: 10, rows: 4 },
    { horizon: 7, n: 10, rows: 0 },
  ];
  for (const c of cases) {
    test(`design at h=${c.horizon}: y is h steps after each origin, rows only from the past`, () => {
      const s = Array.from({ length: c.n }, (_, i) => i * i);
      const d = buildDesign(s, c.horizon, o);
      assert.equal(d.X.length, c.rows);
      d.origins.forEach((origin, r) => {
        assert.equal(d.y[r], s[origin + c.horizon]);
        assert.equal(d.base[r], s[origin]);
        assert.equal(d.X[r]![0], s[origin]); // lag0 is the origin's own value: nothing later leaks in
        assert.deepEqual(d.X[r], featureRow(s.slice(0, origin + 1), origin, o));
      });
    });
  }

  test("origin before the warm-up is refused; covariate length mismatch is refused", () => {
    assert.throws(() => featureRow([1, 2, 3, 4], 2, o), RangeError);
    assert.throws(() => featureRow([1, 2, 3, 4], 3, o, { covariates: { mem: [1, 2] } }), /covariate mem/);
  });

  test("selectColumns and sliceContext", () => {
    assert.deepEqual(selectColumns(["a", "b", "c"], [[1, 2, 3]], ["c", "a"]), [[3, 1]]);
    assert.throws(() => selectColumns(["a"], [[1]], ["z"]), /unknown feature "z"/);
    assert.deepEqual(sliceContext({ t: [1, 2, 3], covariates: { m: [4, 5, 6] } }, 1, 3), { t: [2, 3], covariates: { m: [5, 6] } });
    assert.equal(sliceContext(undefined, 0, 1), undefined);
  });

  test("bad options are refused", () => {
    assert.throws(() => resolveFeatureOptions({ lags: 0 }), RangeError);
    assert.throws(() => resolveFeatureOptions({ windows: [1] }), RangeError);
    assert.throws(() => buildDesign([1, 2, 3], 0, o), RangeError);
  });
});
