import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WriteBatcher } from "./write-batcher.js";

describe("WriteBatcher", () => {
  it("carries the writes of one turn in one flush, at most max at a time, in order", async () => {
    const calls: number[][] = [];
    const batcher = new WriteBatcher<number>(async (items) => void calls.push(items), 3);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.write(n)));
    assert.deepEqual(calls, [
      [1, 2, 3],
      [4, 5],
    ]);
    await batcher.write(6);
    assert.deepEqual(calls.at(-1), [6], "a later turn is a new flush");
  });

  it("rejects every write of a failed flush and only those", async () => {
    const batcher = new WriteBatcher<number>(async (items) => {
      if (items.includes(2)) throw new Error("redis away");
    }, 2);
    const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.write(n)));
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected", "fulfilled"],
    );
  });
});
