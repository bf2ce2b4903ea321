import { test } from "node:test";
import assert from "node:assert/strict";
import { boundWithForward, defaultRollbackReserve, destinationRuns, recoveryFor, whereabouts, type MigrationRecord } from "./migration-record.js";

const rec = (over: Partial<MigrationRecord>): MigrationRecord => ({
  id: "m1",
  containerId: "c",
  containerName: "c",
  source: "n1",
  destination: "n2",
  state: "running",
  step: "describe",
  steps: [],
  createdAt: 1,
  updatedAt: 1,
  frozen: false,
  bytes: 0,
  ...over,
});

test("recoveryFor", async (t) => {
  const cases: Array<[string, Partial<MigrationRecord>, ReturnType<typeof recoveryFor>]> = [
    ["during describe", { step: "describe" }, "roll-back"],
    ["during prepare", { step: "prepare" }, "roll-back"],
    ["during image shipping", { step: "ship-image" }, "roll-back"],
    ["during pre-copy", { step: "precopy" }, "roll-back"],
    ["during freeze", { step: "freeze" }, "continue-forward"],
    ["frozen, restoring", { step: "restore", frozen: true }, "continue-forward"],
    ["verifying", { step: "verify", frozen: true }, "continue-forward"],
    ["committing", { step: "commit", frozen: true }, "continue-forward"],
    ["rolling back", { state: "rolling-back", step: "abort-destination" }, "continue-rollback"],
    ["already committed", { state: "committed", step: "commit" }, "nothing"],
    ["already rolled back", { state: "rolled-back" }, "nothing"],
  ];
  for (const [name, over, expected] of cases) await t.test(name, () => assert.equal(recoveryFor(rec(over)), expected));
});

test("destinationRuns only once finish saw the verified destination still running", () => {
  const ok = (name: "restore" | "verify" | "finish", good = true) => ({ name, node: "n2", startedAt: 1, ok: good });
  assert.equal(destinationRuns(rec({ steps: [ok("restore")] })), false);
  assert.equal(destinationRuns(rec({ steps: [ok("restore"), ok("verify")] })), false);
  assert.equal(destinationRuns(rec({ steps: [ok("restore"), ok("verify"), ok("finish", false)] })), false);
  assert.equal(destinationRuns(rec({ steps: [ok("restore"), ok("verify"), ok("finish")] })), true);
});

test("whereabouts of a failed migration says 'may be stopped' while the freeze was never confirmed", () => {
  const step = (name: "freeze" | "abort-destination" | "resume-source", ok: boolean) => ({ name, node: "n1", startedAt: 1, ok });
  const unconfirmed = whereabouts(
    rec({
      state: "failed",
      frozen: true,
      destinationContainerId: "d".repeat(64),
      steps: [step("freeze", false), step("abort-destination", true), step("resume-source", false)],
    }),
  );
  assert.match(unconfirmed, /may be stopped on n1 \(the freeze was sent but never confirmed/);
  const dumped = whereabouts(
    rec({
      state: "failed",
      frozen: true,
      checkpointName: "herd-m1",
      steps: [step("freeze", true), step("abort-destination", true), step("resume-source", false)],
    }),
  );
  assert.match(dumped, /is stopped on n1 \(checkpoint herd-m1 kept there\)/);
});

test("rollback reserve: a quarter of the bound, at least 10 s, at most half", async (t) => {
  const cases: Array<[number, number]> = [
    [10_000, 5_000], // the API's shortest bound still leaves 5 s to go forward
    [20_000, 10_000],
    [30_000, 10_000],
    [40_000, 10_000],
    [120_000, 30_000],
    [600_000, 150_000],
  ];
  for (const [bound, reserve] of cases) await t.test(`${bound} ms`, () => assert.equal(defaultRollbackReserve(bound), reserve));
});

test("boundWithForward is the smallest bound leaving that much forward time", () => {
  for (let forward = 1; forward <= 200_000; forward += 997) {
    const bound = boundWithForward(forward);
    assert.ok(bound - defaultRollbackReserve(bound) >= forward, `bound ${bound} leaves ${forward} ms`);
    assert.ok(bound - 3 - defaultRollbackReserve(bound - 3) < forward, `bound ${bound} is the smallest for ${forward} ms, give or take rounding`);
  }
});
