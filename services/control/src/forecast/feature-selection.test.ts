import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { rankFeatures, selectFeatures, seededRandom } from "./feature-selection.js";
import type { Design } from "./features.js";

describe("feature ranking and selection", () => {
  test("permutation importance puts the feature the target depends on first, noise near zero", () => {
    const rnd = seededRandom(3);
    const rows = 160;
    const X = Array.from({ length: rows }, () => [rnd() * 10, rnd() * 10, rnd() * 10]);
    const design: Design = {
      names: ["noise.a", "signal", "noise.b"],
      X,
      y: X.map((r) => 3 * r[1]!),
      base: X.map(() => 0),
      origins: X.map((_, i) => i),
    };
    const ranking = rankFeatures(design, { forest: { nEstimators: 10, maxDepth: 6, minNumSamples: 3, maxFeatures: 1, seed: 1 } });
    assert.equal(ranking[0]!.feature, "signal");
    assert.ok(ranking[0]!.importance > 1, `signal importance ${ranking[0]!.importance}`);
    for (const f of ranking.slice(1)) assert.ok(Math.abs(f.importance) < 0.2, `${f.feature} ${f.importance}`);
    assert.deepEqual(rankFeatures(design, { forest: { nEstimators: 10, maxDepth: 6, minNumSamples: 3, maxFeatures: 1, seed: 1 } }), ranking);
  });

  test("too few rows → every feature 0 (no claim)", () => {
    const d: Design = { names: ["a"], X: [[1], [2]], y: [1, 2], base: [0, 0], origins: [0, 1] };
    assert.deepEqual(rankFeatures(d), [{ feature: "a", importance: 0 }]);
  });

  const r = [
    { feature: "a", importance: 0.5 },
    { feature: "b", importance: 0.3 },
    { feature: "c", importance: 0.15 },
    { feature: "d", importance: 0.05 },
    { feature: "e", importance: -0.01 },
  ];
  const cases = [
    { name: "cumulative 95 %", opts: { cumulative: 0.95, minKeep: 1 }, expected: ["a", "b", "c"] },
    { name: "cumulative 80 %", opts: { cumulative: 0.8, minKeep: 1 }, expected: ["a", "b"] },
    { name: "top-k", opts: { topK: 2, cumulative: 1 }, expected: ["a", "b"] },
    { name: "negative importance dropped", opts: { cumulative: 1, minKeep: 1 }, expected: ["a", "b", "c", "d"] },
    { name: "minKeep keeps even useless ones", opts: { cumulative: 0.1, minKeep: 5 }, expected: ["a", "b", "c", "d", "e"] },
  ];
  for (const c of cases) {
    test(`selectFeatures: ${c.name}`, () => {
      assert.deepEqual(selectFeatures(r, c.opts), c.expected);
    });
  }
});
