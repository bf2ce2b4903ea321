import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../../shared/src/seeded-random.js";
import { allocateFairShare, estimateDemand, jainIndex, ShareInputError, type ShareRequest } from "./fair-share.js";

const near = (a: number, b: number, eps = 1e-6) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(b));
const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);

describe("allocateFairShare: table", () => {
  const cases: Array<{
    name: string;
    capacity: number;
    requests: ShareRequest[];
    credits?: Record<string, number>;
    want: Record<string, number>;
    contended: boolean;
  }> = [
    {
      name: "no contention: estimates granted, leftover spread by template",
      capacity: 100,
      requests: [
        { id: "a", estimate: 10, min: 0 },
        { id: "b", estimate: 30, min: 0 },
      ],
      want: { a: 40, b: 60 },
      contended: false,
    },
    {
      name: "contention without credit: templates capped by estimate, remainder split equally among the wanting",
      capacity: 100,
      requests: [
        { id: "a", estimate: 10, min: 5 },
        { id: "b", estimate: 80, min: 5 },
        { id: "c", estimate: 80, min: 5 },
      ],
      want: { a: 10, b: 45, c: 45 },
      contended: true,
    },
    {
      name: "contention: the remainder goes by credit (b saved 30, c saved 10)",
      capacity: 100,
      requests: [
        { id: "a", estimate: 10, min: 5 },
        { id: "b", estimate: 80, min: 5 },
        { id: "c", estimate: 80, min: 5 },
      ],
      credits: { b: 30, c: 10 },
      want: { a: 10, b: 100 / 3 + 23.3333333 * 0.75, c: 100 / 3 + 23.3333333 * 0.25 },
      contended: true,
    },
    {
      name: "credit-weighted share never exceeds the estimate; the rest refills the others",
      capacity: 90,
      requests: [
        { id: "a", estimate: 35, min: 0 },
        { id: "b", estimate: 80, min: 0 },
        { id: "c", estimate: 10, min: 0 },
      ],
      credits: { a: 100, b: 1 },
      want: { a: 35, b: 45, c: 10 },
      contended: true,
    },
    {
      name: "guaranteed minimum holds for an idle container",
      capacity: 100,
      requests: [
        { id: "idle", estimate: 0, min: 10 },
        { id: "busy", estimate: 200, min: 10 },
      ],
      want: { idle: 10, busy: 90 },
      contended: true,
    },
    {
      name: "weights set the templates",
      capacity: 120,
      requests: [
        { id: "a", estimate: 200, min: 0, weight: 2 },
        { id: "b", estimate: 200, min: 0, weight: 1 },
      ],
      want: { a: 80, b: 40 },
      contended: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = allocateFairShare(c.capacity, c.requests, new Map(Object.entries(c.credits ?? {})));
      assert.equal(r.contended, c.contended);
      for (const [id, v] of Object.entries(c.want)) assert.ok(near(r.allocations.get(id) ?? NaN, v, 1e-4), `${id}: got ${r.allocations.get(id)}, want ${v}`);
      assert.ok(near(sum(r.allocations), c.capacity));
    });
  }

  it("refuses malformed input with a reason", () => {
    assert.throws(() => allocateFairShare(0, [], new Map()), ShareInputError);
    assert.throws(() => allocateFairShare(10, [{ id: "a", estimate: -1, min: 0 }], new Map()), /estimate of a/);
    assert.throws(
      () =>
        allocateFairShare(
          10,
          [
            { id: "a", estimate: 1, min: 6 },
            { id: "b", estimate: 1, min: 0 },
          ],
          new Map(),
        ),
      /exceeds its template/,
    );
    assert.throws(
      () =>
        allocateFairShare(
          10,
          [
            { id: "a", estimate: 1, min: 0 },
            { id: "a", estimate: 1, min: 0 },
          ],
          new Map(),
        ),
      /twice/,
    );
  });
});

describe("allocateFairShare: properties (2,000 seeded random periods)", () => {
  it("sums to capacity, respects every minimum, conserves credits", () => {
    const rnd = seededRandom(15);
    let credits = new Map<string, number>();
    let contendedSeen = 0;
    for (let round = 0; round < 2_000; round++) {
      const n = 1 + Math.floor(rnd() * 8);
      const capacity = 1 + rnd() * 4_000;
      const requests: ShareRequest[] = [];
      const weights = Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0.5 + rnd() * 3));
      const totalW = weights.reduce((s, w) => s + w, 0);
      for (let i = 0; i < n; i++) {
        const template = (capacity * (weights[i] ?? 1)) / totalW;
        requests.push({ id: `c${i}`, estimate: rnd() < 0.1 ? 0 : rnd() * capacity * (rnd() < 0.5 ? 0.3 : 1.5), min: rnd() * template, weight: weights[i] });
      }
      // Keep only the credits of the containers present this round; the others' stay aside.
      const before = sum(credits);
      const present = new Map([...credits].filter(([id]) => requests.some((r) => r.id === id)));
      const absent = before - sum(present);
      const r = allocateFairShare(capacity, requests, present);
      if (r.contended) contendedSeen++;
      assert.ok(near(sum(r.allocations), capacity, 1e-9), `round ${round}: Σ=${sum(r.allocations)} capacity=${capacity}`);
      for (const q of requests) assert.ok((r.allocations.get(q.id) ?? -1) >= q.min - 1e-9, `round ${round}: ${q.id} below its minimum`);
      for (const q of requests) assert.ok((r.allocations.get(q.id) ?? -1) >= 0);
      assert.ok(near(sum(r.credits) + absent, before, 1e-6), `round ${round}: credits ${before} → ${sum(r.credits) + absent}`);
      credits = new Map([...credits, ...r.credits]);
    }
    assert.ok(contendedSeen > 200 && contendedSeen < 1_900, `both regimes exercised (${contendedSeen} contended)`);
  });

  it("under contention, a container never gets more than its estimate unless others are satisfied", () => {
    const rnd = seededRandom(7);
    for (let round = 0; round < 1_000; round++) {
      const n = 2 + Math.floor(rnd() * 5);
      const capacity = 100;
      const requests = Array.from({ length: n }, (_, i) => ({ id: `c${i}`, estimate: rnd() * 120, min: 0 }));
      const credits = new Map(requests.map((q) => [q.id, rnd() * 50 - 10]));
      const r = allocateFairShare(capacity, requests, credits);
      if (!r.contended) continue;
      for (const q of requests)
        assert.ok((r.allocations.get(q.id) ?? 0) <= Math.max(q.estimate, capacity / n) + 1e-9, `round ${round}: ${q.id} over its estimate`);
    }
  });
});

describe("estimateDemand and jainIndex", () => {
  it("EWMA with ResCoin's α, raised above a cap the container hits", () => {
    assert.equal(estimateDemand(undefined, 50, undefined, 0.7), 50);
    assert.ok(near(estimateDemand(50, 100, undefined, 0.7), 85));
    assert.ok(near(estimateDemand(50, 100, 100, 0.7), 150), "usage at its allocation: probe above it");
    assert.ok(near(estimateDemand(50, 20, 100, 0.7), 29));
    assert.throws(() => estimateDemand(1, 1, 1, 0), RangeError);
  });
  it("Jain's index: 1 for equal, 1/n for one taking all", () => {
    assert.equal(jainIndex([2, 2, 2, 2]), 1);
    assert.ok(near(jainIndex([1, 0, 0, 0]), 0.25));
    assert.ok(near(jainIndex([1, 2]), 9 / 10));
  });
});
