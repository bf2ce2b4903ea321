/**
 * Which acks a channel sends for its deliveries. One `multiple` ack settles every unacked delivery up to its tag, so
 * a consumer taking a thousand messages a second can ack them in a few frames instead of a thousand — but a
 * `multiple` ack may only cover deliveries whose handlers have finished, whichever of the channel's consumers they
 * belong to. Pure bookkeeping: the bus tells it what was delivered, finished or settled some other way (nacked,
 * dead-lettered), and sends the acks `flush` returns.
 */
export class AckPlan<M> {
  /** Delivered and not yet settled: being handled, waiting for an ack, or being dead-lettered. */
  private readonly open = new Set<number>();
  /** Handled, ack not yet sent. */
  private readonly finished = new Map<number, M>();

  delivered(tag: number): void {
    this.open.add(tag);
  }

  /** The handler finished: acked at the next flush. */
  handled(tag: number, message: M): void {
    if (this.open.has(tag)) this.finished.set(tag, message);
  }

  /** Settled by the caller itself (acked at once, nacked, dead-lettered): it no longer holds acks back. */
  settled(tag: number): void {
    this.open.delete(tag);
    this.finished.delete(tag);
  }

  get pending(): number {
    return this.finished.size;
  }

  /**
   * The acks to send now, all settled by this call: at most one `multiple` ack for the newest finished delivery
   * older than every unfinished one, and single acks for finished deliveries that an unfinished one holds back.
   */
  flush(): { upTo?: M; singles: M[] } {
    let oldestUnfinished = Infinity;
    for (const tag of this.open) if (!this.finished.has(tag) && tag < oldestUnfinished) oldestUnfinished = tag;
    let upToTag = -1;
    const singles: M[] = [];
    for (const tag of this.finished.keys()) if (tag < oldestUnfinished && tag > upToTag) upToTag = tag;
    for (const [tag, message] of this.finished) if (tag > oldestUnfinished) singles.push(message);
    const upTo = upToTag >= 0 ? this.finished.get(upToTag) : undefined;
    for (const tag of [...this.finished.keys()]) this.settled(tag);
    return upTo === undefined ? { singles } : { upTo, singles };
  }
}
