/**
 * A listing served from memory once it is large. GET /containers at 20,000 containers read
 * 1,000 node sets and 20,000 records from Redis, parsed and re-serialized them for every request
 * (p99 ~15 s at 10,000 containers under ingest load, bench:scale); the data changes once per
 * telemetry interval anyway. So above `cacheAbove` items a snapshot younger than `maxAgeMs` is
 * served as is; an older one is still served (and refreshed in the background, one load at a
 * time) while it is younger than `staleMs`, after which callers wait for the fresh load. At or
 * below `cacheAbove` every call loads afresh, exactly as without the cache (small clusters and
 * the integration tests see no staleness at all).
 */
export interface SnapshotCacheOptions<T> {
  load: () => Promise<T>;
  /** How many items a loaded value holds (decides whether it is cached). */
  size: (value: T) => number;
  cacheAbove: number;
  maxAgeMs: number;
  staleMs: number;
  now?: () => number;
}

export class SnapshotCache<T> {
  private current?: { value: T; at: number };
  private inflight?: Promise<T>;
  private readonly now: () => number;

  constructor(private readonly o: SnapshotCacheOptions<T>) {
    this.now = o.now ?? Date.now;
  }

  async get(): Promise<T> {
    const c = this.current;
    if (!c || this.o.size(c.value) <= this.o.cacheAbove) {
      const value = await this.o.load();
      this.current = { value, at: this.now() };
      return value;
    }
    const age = this.now() - c.at;
    if (age <= this.o.maxAgeMs) return c.value;
    const fresh = this.refresh();
    if (age <= this.o.staleMs) {
      // The background load's failure is seen by the next caller that has to wait for one.
      fresh.catch(() => undefined);
      return c.value;
    }
    return fresh;
  }

  /**
   * Loads in the background when the snapshot is missing or older than `everyMs`: a caller after a
   * quiet spell (or the first after start) then gets a snapshot at most `everyMs` old instead of
   * waiting for a full load (bench:scale: that first call was the listing's p99, 2.35 s at
   * 20,000 containers). One load per `everyMs` at most; a failed load is retried next tick.
   */
  warmTick(everyMs: number): void {
    const c = this.current;
    if (c && this.now() - c.at < everyMs) return;
    this.refresh().catch(() => undefined);
  }

  /** Calls {@link warmTick} now and every `everyMs / 2` (an unref'd timer); returns the stop. */
  keepWarm(everyMs: number): () => void {
    this.warmTick(everyMs);
    const timer = setInterval(() => this.warmTick(everyMs), Math.max(50, everyMs / 2));
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Forgets the snapshot: the next call loads afresh (after a write through the API). */
  invalidate(): void {
    this.current = undefined;
  }

  /** One load at a time; its start time is the snapshot's age (what it may have missed). */
  private refresh(): Promise<T> {
    if (this.inflight) return this.inflight;
    const startedAt = this.now();
    const p = this.o
      .load()
      .then((value) => {
        if (!this.current || this.current.at <= startedAt) this.current = { value, at: startedAt };
        return value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    this.inflight = p;
    return p;
  }
}
