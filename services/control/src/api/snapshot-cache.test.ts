import { test } from "node:test";
import assert from "node:assert/strict";
import { SnapshotCache } from "./snapshot-cache.js";

/** A cache over a counter: every load returns an array of `size` copies of the load's number. */
function setup(size: number) {
  let clock = 0;
  let loads = 0;
  let release: (() => void) | undefined;
  let gate = false;
  const cache = new SnapshotCache<number[]>({
    load: async () => {
      loads++;
      const n = loads;
      if (gate) await new Promise<void>((r) => (release = r));
      return Array.from({ length: size }, () => n);
    },
    size: (v) => v.length,
    cacheAbove: 10,
    maxAgeMs: 1000,
    staleMs: 5000,
    now: () => clock,
  });
  return {
    cache,
    loads: () => loads,
    tick: (ms: number) => (clock += ms),
    hold: () => (gate = true),
    let: () => {
      gate = false;
      release?.();
    },
  };
}

test("at or below the threshold every call loads afresh", async () => {
  const s = setup(10);
  assert.equal((await s.cache.get())[0], 1);
  assert.equal((await s.cache.get())[0], 2);
  assert.equal(s.loads(), 2);
});

test("above it: fresh snapshots are served from memory, stale ones while one refresh runs, too old ones wait", async () => {
  const s = setup(11);
  assert.equal((await s.cache.get())[0], 1);
  s.tick(999);
  assert.equal((await s.cache.get())[0], 1, "younger than maxAge: no load");
  assert.equal(s.loads(), 1);
  s.tick(2);
  s.hold();
  assert.equal((await s.cache.get())[0], 1, "stale: served while the refresh runs");
  assert.equal((await s.cache.get())[0], 1, "a second caller does not start another load");
  assert.equal(s.loads(), 2);
  s.let();
  await new Promise((r) => setImmediate(r));
  assert.equal((await s.cache.get())[0], 2, "the refreshed snapshot");
  s.tick(6000);
  assert.equal((await s.cache.get())[0], 3, "older than staleMs: the caller waits for a load");
});

test("a failed background refresh is reported to the next caller that waits; invalidate forces a load", async () => {
  let fail = false;
  let clock = 0;
  let n = 0;
  const cache = new SnapshotCache<number[]>({
    load: async () => {
      n++;
      if (fail) throw new Error("redis down");
      return Array.from({ length: 20 }, () => n);
    },
    size: (v) => v.length,
    cacheAbove: 10,
    maxAgeMs: 1000,
    staleMs: 5000,
    now: () => clock,
  });
  await cache.get();
  fail = true;
  clock = 2000;
  assert.equal((await cache.get())[0], 1, "stale snapshot while the refresh fails in the background");
  clock = 10_000;
  await assert.rejects(cache.get(), /redis down/);
  fail = false;
  cache.invalidate();
  assert.equal((await cache.get()).length, 20);
});

test("warmTick loads when there is no snapshot or it is older than everyMs, so a call after a quiet spell does not wait", async () => {
  const s = setup(11);
  s.cache.warmTick(3000);
  await new Promise((r) => setImmediate(r));
  assert.equal(s.loads(), 1, "warmed at start");
  assert.equal((await s.cache.get())[0], 1, "the first call is served from the warm snapshot");
  s.tick(2999);
  s.cache.warmTick(3000);
  assert.equal(s.loads(), 1, "young enough: no load");
  s.tick(1);
  s.cache.warmTick(3000);
  await new Promise((r) => setImmediate(r));
  assert.equal(s.loads(), 2);
  s.tick(4000);
  // 4 s after the last load, beyond maxAge but within staleMs: the caller is served at once; warmth kept it from 10 s.
  assert.equal((await s.cache.get())[0], 2);
});
