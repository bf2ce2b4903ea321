import type { NodeRecord } from "../state/state-store.js";

export type NodeStatus = "up" | "down";

/**
 * A node is up while its heartbeats (or telemetry, which proves the same) keep arriving: it is
 * down once neither has been seen for `downAfterMs`. Pure, so the API and the control loop agree.
 */
export function nodeStatus(node: NodeRecord, now: number, downAfterMs: number): NodeStatus {
  const last = Math.max(node.lastHeartbeatAt ?? 0, node.lastTelemetryAt ?? 0);
  return last > 0 && now - last <= downAfterMs ? "up" : "down";
}

/** Detects up/down transitions between successive observations (for logs and events). */
export class LivenessTracker {
  private readonly last = new Map<string, NodeStatus>();

  /** Returns the nodes whose status changed since the previous call. */
  observe(nodes: readonly NodeRecord[], now: number, downAfterMs: number): Array<{ nodeId: string; status: NodeStatus }> {
    const changes: Array<{ nodeId: string; status: NodeStatus }> = [];
    for (const n of nodes) {
      const s = nodeStatus(n, now, downAfterMs);
      if (this.last.get(n.id) !== s) changes.push({ nodeId: n.id, status: s });
      this.last.set(n.id, s);
    }
    return changes;
  }
}
