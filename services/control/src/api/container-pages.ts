import { setImmediate as yieldToLoop } from "node:timers/promises";
import { ValidationError } from "../../../../shared/src/errors.js";
import { compareKeys, type PageKey } from "../state/container-order.js";

/**
 * Paging of GET /containers (`?limit=&cursor=`): pure functions over a listing sorted by
 * {@link compareKeys}. The cursor is the last returned container's sort key (node, name, id),
 * base64url-encoded JSON, so a page starts right after it even when containers came or went
 * between calls (a page never repeats nor skips one that stayed).
 */
export { compareKeys, type PageKey };

export function encodeCursor(k: PageKey): string {
  return Buffer.from(JSON.stringify([k.nodeId, k.name, k.id]), "utf8").toString("base64url");
}

/** The key a cursor stands for; a cursor this API did not make is a ValidationError (400) naming `cursor`. */
export function decodeCursor(cursor: string): PageKey {
  const bad = () => new ValidationError("cursor", "not a cursor returned by GET /containers (nextCursor)");
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || !parsed.every((p) => typeof p === "string")) throw bad();
  const [nodeId, name, id] = parsed as [string, string, string];
  return { nodeId, name, id };
}

/** The items after `after` (all when undefined), at most `limit`; `nextCursor` when more follow. */
export function page<T extends PageKey>(sorted: readonly T[], limit: number, after?: PageKey): { items: T[]; nextCursor?: string } {
  let lo = 0;
  if (after) {
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(sorted[mid]!, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
  }
  const items = sorted.slice(lo, lo + limit);
  const last = items[items.length - 1];
  return lo + limit < sorted.length && last ? { items, nextCursor: encodeCursor(last) } : { items };
}

/**
 * A listing kept as JSON text: each item serialised once when the snapshot is built, the whole
 * body encoded once. At 20,000 containers, serialising the 8.5 MB body (and express hashing it for
 * an ETag) on every call, or in one piece while calls waited, was the listing's p99 (bench:scale).
 */
export interface Listing {
  /** Sorted by {@link compareKeys}; `json` is the item's text as it appears in the body. */
  entries: Array<PageKey & { json: string }>;
  /** `{"containers":[…]}`, UTF-8. */
  body: Buffer;
  /** A weak ETag for this build (`tag` names it: callers pass something that changes with every build). */
  etag: string;
}

/**
 * Builds a {@link Listing} from `records` (any order) with `toItem` giving each one's JSON object.
 * Serialises `chunk` items at a time and awaits `pause()` between chunks, so a large listing does not
 * hold the event loop in one piece.
 */
export async function buildListing<R extends PageKey>(
  records: readonly R[],
  toItem: (r: R) => object,
  tag: string,
  o: { chunk?: number; pause?: () => Promise<void> } = {},
): Promise<Listing> {
  const chunk = o.chunk ?? 1_000;
  const pause = o.pause ?? (() => yieldToLoop());
  const sorted = [...records].sort(compareKeys);
  const entries: Listing["entries"] = [];
  for (let i = 0; i < sorted.length; i += chunk) {
    for (const r of sorted.slice(i, i + chunk)) entries.push({ nodeId: r.nodeId, name: r.name, id: r.id, json: JSON.stringify(toItem(r)) });
    if (i + chunk < sorted.length) await pause();
  }
  const body = Buffer.from(`{"containers":[${entries.map((e) => e.json).join(",")}]}`, "utf8");
  return { entries, body, etag: `W/"containers-${tag}"` };
}

/** One page of a {@link Listing} (optionally one node's containers) as the response's JSON text. */
export function pageBody(listing: Listing, limit: number | undefined, after: PageKey | undefined, nodeId?: string): string {
  const selected = nodeId === undefined ? listing.entries : listing.entries.filter((e) => e.nodeId === nodeId);
  const { items, nextCursor } = page(selected, limit ?? selected.length + 1, after);
  return `{"containers":[${items.map((e) => e.json).join(",")}]${nextCursor ? `,"nextCursor":${JSON.stringify(nextCursor)}` : ""}}`;
}
