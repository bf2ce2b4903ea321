import type { FeedContainer, FeedMigration, FeedNode, HelloFrame, Sample, TickFrame } from "./types.js";

export const CONTAINER_POINTS = 60;
export const NODE_POINTS = 300;

function push(hist: Map<string, Sample[]>, id: string, s: Sample, max: number): void {
  const h = hist.get(id) ?? [];
  const last = h[h.length - 1];
  if (last && last[0] >= s[0]) return; // already have it (a hello and a tick may overlap)
  h.push(s);
  if (h.length > max) h.splice(0, h.length - max);
  hist.set(id, h);
}

/** The page's copy of the cluster, kept current by the stream's hello and tick frames. */
export class Model {
  nodes = new Map<string, FeedNode>();
  containers = new Map<string, FeedContainer>();
  migrations = new Map<string, FeedMigration>();
  nodeHist = new Map<string, Sample[]>();
  contHist = new Map<string, Sample[]>();
  /** Server clock minus ours, so "ago" and live frozen time use the server's clock. */
  skew = 0;
  lastFrameAt = 0;
  ready = false;

  serverNow(): number {
    return Date.now() + this.skew;
  }

  hello(f: HelloFrame): void {
    this.skew = f.t - Date.now();
    this.lastFrameAt = Date.now();
    this.nodes = new Map(f.nodes.map((n) => [n.id, n]));
    this.containers = new Map(f.containers.map((c) => [c.id, c]));
    this.migrations = new Map(f.migrations.map((m) => [m.id, m]));
    this.nodeHist = new Map(Object.entries(f.history.nodes));
    this.contHist = new Map(Object.entries(f.history.containers));
    this.ready = true;
  }

  /** Applies a tick; says whether the set of containers or nodes changed shape (a re-layout). */
  tick(f: TickFrame): { structural: boolean } {
    this.skew = f.t - Date.now();
    this.lastFrameAt = Date.now();
    const beforeNodes = [...this.nodes.values()].map((n) => `${n.id}:${n.status}`).join();
    this.nodes = new Map(f.nodes.map((n) => [n.id, n]));
    const afterNodes = f.nodes.map((n) => `${n.id}:${n.status}`).join();
    for (const c of f.upsert) this.containers.set(c.id, c);
    for (const id of f.removed) {
      this.containers.delete(id);
      this.contHist.delete(id);
    }
    for (const [id, s] of Object.entries(f.samples)) {
      const c = this.containers.get(id);
      if (c) {
        c.cpuPct = s[1];
        c.memBytes = s[2];
        c.updatedAt = s[0];
      }
      push(this.contHist, id, s, CONTAINER_POINTS);
    }
    for (const [id, s] of Object.entries(f.nodeSamples)) push(this.nodeHist, id, s, NODE_POINTS);
    for (const m of f.migrations) this.migrations.set(m.id, m);
    return { structural: f.upsert.length > 0 || f.removed.length > 0 || beforeNodes !== afterNodes };
  }

  containersOn(nodeId: string): FeedContainer[] {
    return [...this.containers.values()].filter((c) => c.nodeId === nodeId).sort((a, b) => a.name.localeCompare(b.name));
  }

  migrationList(): FeedMigration[] {
    return [...this.migrations.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, 50);
  }

  running(): FeedMigration[] {
    return this.migrationList().filter((m) => m.state === "running" || m.state === "rolling-back");
  }
}
