import { ValidationError } from "../../../../shared/src/errors.js";

/**
 * Paging of GET /containers (`?limit=&cursor=`): pure functions over a listing sorted by
 * {@link compareKeys}. The cursor is the last returned container's sort key (node, name, id),
 * base64url-encoded JSON, so a page starts right after it even when containers came or went
 * between calls (a page never repeats nor skips one that stayed).
 */
export interface PageKey {
  nodeId: string;
  name: string;
  id: string;
}

/** Node, then name, then id, by code point (cheap, total, the same in every replica). */
export function compareKeys(a: PageKey, b: PageKey): number {
  if (a.nodeId !== b.nodeId) return a.nodeId < b.nodeId ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

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
