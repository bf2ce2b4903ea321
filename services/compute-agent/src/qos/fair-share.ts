/**
 * ResCoin's credit-weighted fair share, as pure functions of one period's inputs.
 *
 * Each period, for one resource with `capacity` and containers with an estimated demand:
 *  - template t_i: the container's static share, capacity·w_i/Σw (equal shares by default);
 *  - if Σ estimates ≤ capacity, every container gets its estimate (at least its minimum) and the
 *    leftover is spread by template, so the node's capacity is always handed out;
 *  - otherwise each gets max(min_i, min(estimate_i, t_i)) and the remainder goes to the containers
 *    that want more, weighted by their accumulated credit ac_i/Σac (water-filled: nobody gets more
 *    than its estimate while another still wants some; equal weights when no one has credit).
 * Credits: ac_i += t_i − a_i. A container given less than its template earns what it left, one
 * given more pays for it; as Σa = Σt = capacity, the credits in circulation never change.
 */
export interface ShareRequest {
  id: string;
  /** Predicted demand this period (same unit as capacity). */
  estimate: number;
  /** Guaranteed minimum; must not exceed the container's template. */
  min: number;
  /** Relative weight of the template (default 1). */
  weight?: number;
}

export interface ShareResult {
  allocations: Map<string, number>;
  templates: Map<string, number>;
  credits: Map<string, number>;
  contended: boolean;
}

export class ShareInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShareInputError";
  }
}

export function allocateFairShare(capacity: number, requests: readonly ShareRequest[], credits: ReadonlyMap<string, number>): ShareResult {
  if (!(capacity > 0) || !Number.isFinite(capacity)) throw new ShareInputError(`capacity must be a positive number, got ${capacity}`);
  const allocations = new Map<string, number>();
  const templates = new Map<string, number>();
  const nextCredits = new Map<string, number>();
  if (requests.length === 0) return { allocations, templates, credits: nextCredits, contended: false };
  const seen = new Set<string>();
  for (const r of requests) {
    if (seen.has(r.id)) throw new ShareInputError(`container ${r.id} appears twice`);
    seen.add(r.id);
    if (!(r.estimate >= 0) || !Number.isFinite(r.estimate)) throw new ShareInputError(`estimate of ${r.id} must be ≥ 0, got ${r.estimate}`);
    if (!(r.min >= 0) || !Number.isFinite(r.min)) throw new ShareInputError(`minimum of ${r.id} must be ≥ 0, got ${r.min}`);
    if (r.weight !== undefined && !(r.weight > 0)) throw new ShareInputError(`weight of ${r.id} must be > 0, got ${r.weight}`);
  }
  const totalWeight = requests.reduce((s, r) => s + (r.weight ?? 1), 0);
  for (const r of requests) {
    const t = (capacity * (r.weight ?? 1)) / totalWeight;
    if (r.min > t + 1e-9) throw new ShareInputError(`minimum of ${r.id} (${r.min}) exceeds its template share (${t})`);
    templates.set(r.id, t);
  }

  const floor = (r: ShareRequest) => Math.max(r.min, r.estimate);
  const contended = requests.reduce((s, r) => s + floor(r), 0) > capacity;
  if (!contended) {
    let used = 0;
    for (const r of requests) {
      allocations.set(r.id, floor(r));
      used += floor(r);
    }
    const leftover = capacity - used;
    for (const r of requests) allocations.set(r.id, (allocations.get(r.id) ?? 0) + (leftover * (templates.get(r.id) ?? 0)) / capacity);
  } else {
    let used = 0;
    for (const r of requests) {
      const base = Math.max(r.min, Math.min(r.estimate, templates.get(r.id) ?? 0));
      allocations.set(r.id, base);
      used += base;
    }
    const wanting = requests
      .map((r) => ({ id: r.id, room: r.estimate - (allocations.get(r.id) ?? 0), credit: Math.max(0, credits.get(r.id) ?? 0) }))
      .filter((w) => w.room > 0);
    waterFill(capacity - used, wanting, allocations);
  }
  for (const r of requests) {
    nextCredits.set(r.id, (credits.get(r.id) ?? 0) + (templates.get(r.id) ?? 0) - (allocations.get(r.id) ?? 0));
  }
  return { allocations, templates, credits: nextCredits, contended };
}

/** Hands `remainder` out by credit weight, never beyond a container's room; refills from the rest. */
function waterFill(remainder: number, wanting: Array<{ id: string; room: number; credit: number }>, allocations: Map<string, number>): void {
  let left = remainder;
  let open = wanting;
  while (left > 1e-12 && open.length > 0) {
    const totalCredit = open.reduce((s, w) => s + w.credit, 0);
    const weightOf = (w: { credit: number }) => (totalCredit > 0 ? w.credit / totalCredit : 1 / open.length);
    // Containers without credit wait while others with credit still have room.
    const eligible = totalCredit > 0 ? open.filter((w) => w.credit > 0) : open;
    const full = eligible.filter((w) => w.room <= left * weightOf(w));
    if (full.length === 0) {
      for (const w of eligible) allocations.set(w.id, (allocations.get(w.id) ?? 0) + left * weightOf(w));
      return;
    }
    for (const w of full) {
      allocations.set(w.id, (allocations.get(w.id) ?? 0) + w.room);
      left -= w.room;
    }
    const done = new Set(full.map((w) => w.id));
    open = open.filter((w) => !done.has(w.id));
  }
}

/**
 * ResCoin's EWMA demand estimate, e = α·usage + (1−α)·e_prev, with one addition for a capped
 * container: usage pinned at its allocation hides the real demand, so the estimate is raised
 * above the cap (by `probe`, 1.5×: demand hidden under a cap is found in a few periods) to find out whether it wants more.
 */
export function estimateDemand(previous: number | undefined, usage: number, allocation: number | undefined, alpha: number, probe = 1.5): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
  const ewma = previous === undefined ? usage : alpha * usage + (1 - alpha) * previous;
  if (allocation !== undefined && allocation > 0 && usage >= 0.9 * allocation) return Math.max(ewma, allocation * probe);
  return ewma;
}

/** Jain's fairness index of x: (Σx)² / (n·Σx²); 1 when all equal, 1/n when one takes all. */
export function jainIndex(xs: readonly number[]): number {
  if (xs.length === 0) return 1;
  const sum = xs.reduce((s, x) => s + x, 0);
  const sq = xs.reduce((s, x) => s + x * x, 0);
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq);
}
