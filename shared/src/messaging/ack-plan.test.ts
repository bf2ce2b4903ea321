import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AckPlan } from "./ack-plan.js";

describe("AckPlan", () => {
  it("settles a run of finished deliveries with one multiple ack at the newest", () => {
    const plan = new AckPlan<string>();
    for (let tag = 1; tag <= 5; tag++) plan.delivered(tag);
    for (let tag = 1; tag <= 5; tag++) plan.handled(tag, `m${tag}`);
    assert.deepEqual(plan.flush(), { upTo: "m5", singles: [] });
    assert.deepEqual(plan.flush(), { singles: [] }, "nothing left to ack");
  });

  it("never covers a delivery still being handled, on any consumer of the channel", () => {
    const plan = new AckPlan<string>();
    for (let tag = 1; tag <= 6; tag++) plan.delivered(tag);
    plan.handled(1, "m1");
    plan.handled(2, "m2");
    plan.handled(4, "m4");
    plan.handled(6, "m6");
    // 3 and 5 are still running: 1-2 go as one multiple ack, 4 and 6 one by one.
    assert.deepEqual(plan.flush(), { upTo: "m2", singles: ["m4", "m6"] });
    plan.handled(5, "m5");
    assert.deepEqual(plan.flush(), { singles: ["m5"] }, "3 still holds everything after it back");
    plan.handled(3, "m3");
    assert.deepEqual(plan.flush(), { upTo: "m3", singles: [] });
  });

  it("lets a delivery settled elsewhere (nacked, dead-lettered) stop holding acks back", () => {
    const plan = new AckPlan<string>();
    for (let tag = 1; tag <= 3; tag++) plan.delivered(tag);
    plan.handled(3, "m3");
    plan.settled(1);
    plan.handled(2, "m2");
    assert.deepEqual(plan.flush(), { upTo: "m3", singles: [] });
  });

  it("ignores a completion for a delivery it does not hold (its channel was replaced)", () => {
    const plan = new AckPlan<string>();
    plan.handled(7, "m7");
    assert.equal(plan.pending, 0);
    assert.deepEqual(plan.flush(), { singles: [] });
  });
});
