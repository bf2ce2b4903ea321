/**
 * Gathers the writes that callers start in one turn of the event loop into one call of `flush`, at most `max` at a
 * time; each caller's promise settles with the call that carried its item. The telemetry consumer handles up to a
 * prefetch of batches at once, so at 1,000 nodes a turn typically holds several: one Redis script call for them
 * instead of one each (the same per-batch atomicity: the script writes them one after another).
 *
 * Hand-written rather than DataLoader: that library batches keyed loads and caches them; these are writes with no
 * key and no result.
 */
export class WriteBatcher<T> {
  private queued: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly max: number,
  ) {}

  write(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.drain());
      }
    });
  }

  private drain(): void {
    this.scheduled = false;
    const all = this.queued;
    this.queued = [];
    for (let i = 0; i < all.length; i += this.max) {
      const group = all.slice(i, i + this.max);
      this.flush(group.map((w) => w.item)).then(
        () => group.forEach((w) => w.resolve()),
        (err: unknown) => group.forEach((w) => w.reject(err)),
      );
    }
  }
}
