import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import type { ProposedMove } from "./cluster-snapshot.js";
import { parseMoveBudget, planMoves } from "./move-planner.js";
import { ctr, node, snap } from "./test-fixtures.js";

const mv = (c: string, from: string, to: string): ProposedMove => ({ containerId: c, from, to, reason: "test" });
const base = snap(
  [node("a"), node("b"), node("c"), node("down", 4, { up: false })],
  [ctr("x", "a", 100), ctr("y", "a", 100), ctr("z", "b", 100), ctr("w", "c", 100), ctr("recent", "a", 100, { lastMigratedAt: 10_000_000 - 60_000 })],
);

describe("move planner budgets", () => {
  const cases: { name: string; budget: unknown; proposals: ProposedMove[]; start: string[]; why?: RegExp }[] = [
    {
      name: "everything within budget starts",
      budget: { maxConcurrent: 10, maxPerNode: 10 },
      proposals: [mv("x", "a", "b"), mv("w", "c", "b")],
      start: ["x", "w"],
    },
    {
      name: "cluster-wide concurrency cap keeps the first moves",
      budget: { maxConcurrent: 1, maxPerNode: 10 },
      proposals: [mv("x", "a", "b"), mv("w", "c", "b")],
      start: ["x"],
      why: /cluster budget/,
    },
    {
      name: "per-node cap counts source and destination",
      budget: { maxConcurrent: 10, maxPerNode: 1 },
      proposals: [mv("x", "a", "b"), mv("y", "a", "c"), mv("w", "c", "b")],
      start: ["x"],
      why: /node budget/,
    },
    { name: "cooldown blocks a container moved recently", budget: { cooldownSec: 600 }, proposals: [mv("recent", "a", "b")], start: [], why: /cooldown/ },
    { name: "never onto a down node", budget: {}, proposals: [mv("x", "a", "down")], start: [], why: /down/ },
    { name: "stale proposal (wrong source) is rejected", budget: {}, proposals: [mv("z", "a", "c")], start: [], why: /is on b/ },
    {
      name: "one move per container per round",
      budget: { maxPerNode: 10 },
      proposals: [mv("x", "a", "b"), mv("x", "a", "c")],
      start: ["x"],
      why: /already migrating or planned/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planMoves(base, c.proposals, parseMoveBudget(c.budget));
      assert.deepEqual(
        plan.start.map((m) => m.containerId),
        c.start,
      );
      if (c.why)
        assert.ok(
          plan.rejected.some((r) => c.why!.test(r.why)),
          JSON.stringify(plan.rejected),
        );
    });
  }

  it("migrations already in flight count against the budgets", () => {
    const s = { ...base, migrations: [{ containerId: "z", from: "b", to: "c", startedAt: 0 }] };
    const plan = planMoves(s, [mv("x", "a", "b"), mv("z", "b", "a")], parseMoveBudget({ maxConcurrent: 10, maxPerNode: 1 }));
    assert.deepEqual(plan.start, []);
    assert.equal(plan.rejected.length, 2);
  });

  it("dry run starts nothing but reports what would start", () => {
    const plan = planMoves(base, [mv("x", "a", "b")], parseMoveBudget({ dryRun: true }));
    assert.deepEqual(plan.start, []);
    assert.deepEqual(
      plan.allowed.map((m) => m.containerId),
      ["x"],
    );
    assert.equal(plan.dryRun, true);
  });

  it("invalid budgets fail with the field and range", () => {
    assert.throws(
      () => parseMoveBudget({ maxConcurrent: -1 }),
      (e: unknown) => e instanceof ValidationError && e.field === "budget.maxConcurrent" && /between 0 and/.test(e.message),
    );
    assert.throws(() => parseMoveBudget({ bogus: 1 }), ValidationError);
  });
});
