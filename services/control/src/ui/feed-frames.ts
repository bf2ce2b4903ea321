import type { MigrationRecord } from "../migration/migration-record.js";
import type { NodeStatus } from "../registry/node-liveness.js";

/**
 * What the dashboard's live stream carries. Pure types and functions: the stream sends one
 * `hello` frame (everything, with recent history) and then `tick` frames holding only what
 * changed since the previous tick, so 200 containers cost one small frame per second, not one
 * request per row.
 */
export interface FeedNode {
  id: string;
  status: NodeStatus;
  address?: string;
  cpuCores?: number;
  cpuPct?: number;
  memUsedBytes?: number;
  memTotalBytes?: number;
  containers: number;
  lastSeenAt?: number;
}

export interface FeedContainer {
  id: string;
  name: string;
  nodeId: string;
  image: string;
  state: string;
  cpuPct: number;
  memBytes: number;
  memLimitBytes: number | null;
  updatedAt: number;
}

/** A migration as the page shows it: the record without the (large) container spec. */
export type FeedMigration = Omit<MigrationRecord, "spec">;

export interface FeedState {
  t: number;
  nodes: FeedNode[];
  containers: FeedContainer[];
  migrations: FeedMigration[];
}

/** [t, cpuPct, memBytes] — compact so a tick for 200 containers stays a few KB. */
export type Sample = [number, number, number];

export interface HelloFrame extends FeedState {
  history: { nodes: Record<string, Sample[]>; containers: Record<string, Sample[]> };
}

export interface TickFrame {
  t: number;
  /** Always every node (there are few): liveness can change without new telemetry. */
  nodes: FeedNode[];
  /** Containers that are new or changed in something other than their usage figures. */
  upsert: FeedContainer[];
  removed: string[];
  /** A new usage point per container that reported since the last tick. */
  samples: Record<string, Sample>;
  nodeSamples: Record<string, Sample>;
  migrations: FeedMigration[];
}

/** Drops the container spec (environment, mounts…): the page shows none of it. */
export function toFeedMigration<T extends { spec?: unknown }>(m: T): Omit<T, "spec"> {
  const { spec: _spec, ...rest } = m;
  return rest;
}

const sameIdentity = (a: FeedContainer, b: FeedContainer) =>
  a.name === b.name && a.nodeId === b.nodeId && a.image === b.image && a.state === b.state && a.memLimitBytes === b.memLimitBytes;

const migrationVersion = (m: FeedMigration) => `${m.updatedAt}/${m.live?.at ?? 0}/${m.state}/${m.steps.length}`;

export function nodeSample(n: FeedNode): Sample | undefined {
  return n.lastSeenAt !== undefined && n.cpuPct !== undefined ? [n.lastSeenAt, n.cpuPct, n.memUsedBytes ?? 0] : undefined;
}

/** What changed from `prev` to `next`; undefined when nothing did (no frame is sent). */
export function diffFeed(prev: FeedState, next: FeedState): TickFrame | undefined {
  const before = new Map(prev.containers.map((c) => [c.id, c]));
  const after = new Set(next.containers.map((c) => c.id));
  const upsert: FeedContainer[] = [];
  const samples: Record<string, Sample> = {};
  for (const c of next.containers) {
    const old = before.get(c.id);
    if (!old || !sameIdentity(old, c)) upsert.push(c);
    if (!old || old.updatedAt !== c.updatedAt) samples[c.id] = [c.updatedAt, c.cpuPct, c.memBytes];
  }
  const removed = prev.containers.filter((c) => !after.has(c.id)).map((c) => c.id);

  const prevNodes = new Map(prev.nodes.map((n) => [n.id, n]));
  const nodeSamples: Record<string, Sample> = {};
  let nodesChanged = prev.nodes.length !== next.nodes.length;
  for (const n of next.nodes) {
    const old = prevNodes.get(n.id);
    if (!old || old.status !== n.status || old.containers !== n.containers) nodesChanged = true;
    const s = nodeSample(n);
    if (s && (!old || old.lastSeenAt !== n.lastSeenAt)) {
      nodeSamples[n.id] = s;
      nodesChanged = true;
    }
  }

  const prevMigrations = new Map(prev.migrations.map((m) => [m.id, migrationVersion(m)]));
  const migrations = next.migrations.filter((m) => prevMigrations.get(m.id) !== migrationVersion(m));

  const empty =
    !nodesChanged &&
    upsert.length === 0 &&
    removed.length === 0 &&
    Object.keys(samples).length === 0 &&
    Object.keys(nodeSamples).length === 0 &&
    migrations.length === 0;
  if (empty) return undefined;
  return { t: next.t, nodes: next.nodes, upsert, removed, samples, nodeSamples, migrations };
}

/** Server-sent-events wire format: one event, data on one line (JSON has no raw newlines). */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
