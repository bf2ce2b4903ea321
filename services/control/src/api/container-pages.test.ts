import { test } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import { compareKeys, decodeCursor, encodeCursor, page, type PageKey } from "./container-pages.js";

const key = (nodeId: string, name: string, id = `${nodeId}-${name}`): PageKey => ({ nodeId, name, id });
const listing = (nodes: number, per: number) =>
  Array.from({ length: nodes * per }, (_, i) => key(`n${String(Math.floor(i / per)).padStart(3, "0")}`, `c${String(i % per).padStart(2, "0")}`)).sort(compareKeys);

test("following nextCursor returns every container exactly once, in order", () => {
  const all = listing(7, 13);
  const seen: PageKey[] = [];
  let cursor: string | undefined;
  let calls = 0;
  do {
    const p = page(all, 10, cursor ? decodeCursor(cursor) : undefined);
    seen.push(...p.items);
    cursor = p.nextCursor;
    calls++;
  } while (cursor);
  assert.deepEqual(seen, all);
  assert.equal(calls, Math.ceil(all.length / 10));
});

test("a page starts right after the cursor's container even when it is gone, and no cursor at the end", () => {
  const all = listing(3, 4);
  const first = page(all, 5);
  assert.equal(first.items.length, 5);
  const after = first.items[4]!;
  // The cursor's container disappears and a new one appears before it: neither repeats nor skips the rest.
  const changed = [...all.filter((k) => compareKeys(k, after) !== 0), key("n000", "a-new")].sort(compareKeys);
  const second = page(changed, 100, decodeCursor(first.nextCursor!));
  assert.deepEqual(second.items, all.slice(5));
  assert.equal(second.nextCursor, undefined);
  assert.deepEqual(page(all, 12).nextCursor, undefined, "exactly the last item: no cursor");
});

test("cursors round-trip any names; anything else is a ValidationError naming cursor", () => {
  const k = key("n1", "wëb/ä \"x\"", "abc");
  assert.deepEqual(decodeCursor(encodeCursor(k)), k);
  for (const bad of ["", "!!", "x".repeat(2001), Buffer.from("[1,2,3]").toString("base64url"), Buffer.from("{").toString("base64url"), Buffer.from('["a","b"]').toString("base64url")]) {
    assert.throws(() => decodeCursor(bad), (e: unknown) => e instanceof ValidationError && /^cursor:/.test(e.message), bad);
  }
});
