/**
 * When the agent's next heartbeat is worth sending. The control counts a node alive while either its
 * telemetry or its heartbeats arrive (node-liveness.ts takes the later of the two), so while the broker keeps
 * confirming telemetry batches a heartbeat adds only the node's slow-changing facts (address, capacity,
 * versions, checkpoint features). It goes out when those facts change, when no telemetry batch was confirmed
 * within one heartbeat interval (the liveness signal is then the heartbeat's alone, as before), and at least
 * every `refreshMs` (a control whose Redis lost the node's record relearns its facts within that). When
 * telemetry stops, the next tick but one sends: the longest silence is one heartbeat interval plus one
 * telemetry interval (3 s at the defaults, against the control's 6 s HERD_NODE_DOWN_AFTER_MS).
 *
 * bench:scale: at 1,000 nodes the 2 s heartbeats were 500 messages a second beside 1,000 telemetry batches, a
 * third of the broker's and the events queue's traffic, each one also a Redis write — for a fact the telemetry
 * already proved.
 */
export class HeartbeatSchedule {
  private lastSentAt: number | undefined;
  private lastFacts: string | undefined;
  private lastTelemetryAt = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly refreshMs: number,
  ) {}

  /** A telemetry batch was confirmed by the broker at `at`. */
  telemetryConfirmed(at: number): void {
    this.lastTelemetryAt = Math.max(this.lastTelemetryAt, at);
  }

  /** Whether a heartbeat carrying `facts` (any stable text of them) should go out at `now`. */
  due(now: number, facts: string): boolean {
    if (this.lastSentAt === undefined || facts !== this.lastFacts) return true;
    if (now - this.lastSentAt >= this.refreshMs) return true;
    return now - this.lastTelemetryAt >= this.intervalMs;
  }

  /** The broker confirmed a heartbeat carrying `facts`, sent at `at`. */
  sent(at: number, facts: string): void {
    this.lastSentAt = at;
    this.lastFacts = facts;
  }
}
