import { test } from "node:test";
import assert from "node:assert/strict";
import { ValidationError } from "../../../../shared/src/errors.js";
import { buildListing, compareKeys, decodeCursor, encodeCursor, page, pageBody, type PageKey } from "./container-pages.js";

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

test("buildListing: the body is the sorted items' JSON, pages of it are the same text as serialising the page, built in chunks", async () => {
  const records = listing(5, 7)
    .reverse()
    .map((k, i) => ({ ...k, cpuPct: i / 3, note: "é\u2028\"" }));
  let pauses = 0;
  const built = await buildListing(records, (r) => ({ ...r, nodeStatus: "up" }), "t1", { chunk: 4, pause: async () => void pauses++ });
  const expected = [...records].sort(compareKeys).map((r) => ({ ...r, nodeStatus: "up" }));
  assert.equal(built.body.toString("utf8"), JSON.stringify({ containers: expected }));
  assert.equal(pauses, Math.ceil(records.length / 4) - 1);
  assert.equal(built.etag, 'W/"containers-t1"');
  const first = JSON.parse(pageBody(built, 10, undefined)) as { containers: unknown[]; nextCursor: string };
  assert.deepEqual(first.containers, expected.slice(0, 10));
  const second = JSON.parse(pageBody(built, 10, decodeCursor(first.nextCursor))) as { containers: unknown[] };
  assert.deepEqual(second.containers, expected.slice(10, 20));
  const oneNode = JSON.parse(pageBody(built, undefined, undefined, "n002")) as { containers: PageKey[]; nextCursor?: string };
  assert.deepEqual(oneNode.containers, expected.filter((c) => c.nodeId === "n002"));
  assert.equal(oneNode.nextCursor, undefined);
  assert.equal((await buildListing([], (r) => r, "e")).body.toString(), '{"containers":[]}');
});
