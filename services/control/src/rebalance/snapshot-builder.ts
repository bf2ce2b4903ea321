import type { ClusterSnapshot, ContainerSnapshot, NodeSnapshot } from "../placement/cluster-snapshot.js";
import type { MigrationRecord } from "../migration/migration-record.js";
import type { ContainerRecord, NodeRecord } from "../state/state-store.js";

/** Millicores per core: the live snapshot's CPU unit. */
export const MILLICORES = 1000;

export interface LiveContainer {
  record: ContainerRecord;
  /** CPU demand per planning interval (percent of one core), oldest first. */
  cpuHistory: readonly number[];
  /** Forecast CPU (percent of one core) for the next intervals. */
  cpuForecast?: readonly number[];
}

export interface LiveInputs {
  now: number;
  intervalSec: number;
  nodes: ReadonlyArray<NodeRecord & { status: "up" | "down" }>;
  containers: readonly LiveContainer[];
  /** Unfinished migrations (they pin their container and count against budgets). */
  running: readonly MigrationRecord[];
  /** End of the last committed migration per container name. */
  lastMigratedAt: ReadonlyMap<string, number>;
  transferRateBps: number;
}

/**
 * The live cluster as a placement snapshot. Pure. A node's CPU usage is the sum of its
 * containers' demand, not its host-wide CPU: on the local cluster several emulated nodes share
 * one machine, and on a real host this is the part placement can move.
 */
export function buildSnapshot(i: LiveInputs): ClusterSnapshot {
  const running = i.containers.filter((c) => c.record.state === "running");
  const usage = new Map<string, { cpu: number; mem: number; net: number }>();
  for (const c of running) {
    const u = usage.get(c.record.nodeId) ?? { cpu: 0, mem: 0, net: 0 };
    u.cpu += (c.record.cpuPct / 100) * MILLICORES;
    u.mem += c.record.memBytes;
    u.net += c.record.netRxBps + c.record.netTxBps;
    usage.set(c.record.nodeId, u);
  }
  const nodes: NodeSnapshot[] = i.nodes.map((n) => {
    const u = usage.get(n.id) ?? { cpu: 0, mem: 0, net: 0 };
    return {
      id: n.id,
      up: n.status === "up",
      capacity: { cpu: (n.cpuCores ?? 1) * MILLICORES, cpuPerCore: MILLICORES, memoryBytes: n.memTotalBytes ?? 0, netBps: 0 },
      usage: { cpu: u.cpu, memoryBytes: u.mem, netBps: u.net },
    };
  });
  const order = new Map(nodes.map((n, k) => [n.id, k]));
  const containers: ContainerSnapshot[] = running
    .filter((c) => order.has(c.record.nodeId))
    .sort((a, b) => order.get(a.record.nodeId)! - order.get(b.record.nodeId)! || a.record.name.localeCompare(b.record.name))
    .map((c) => {
      const last = i.lastMigratedAt.get(c.record.name);
      return {
        id: c.record.id,
        nodeId: c.record.nodeId,
        demand: { cpu: (c.record.cpuPct / 100) * MILLICORES, memoryBytes: c.record.memBytes, netBps: c.record.netRxBps + c.record.netTxBps },
        history: { cpu: c.cpuHistory.map((v) => (v / 100) * MILLICORES) },
        ...(c.cpuForecast ? { forecast: { cpu: c.cpuForecast.map((v) => (v / 100) * MILLICORES) } } : {}),
        memorySizeBytes: c.record.memBytes,
        ...(last !== undefined ? { lastMigratedAt: last } : {}),
      };
    });
  return {
    now: i.now,
    intervalSec: i.intervalSec,
    nodes,
    containers,
    migrations: i.running.map((m) => ({ containerId: m.containerId, from: m.source, to: m.destination, startedAt: m.createdAt })),
    transferRateBps: i.transferRateBps,
  };
}

/** Averages a per-sample series into buckets of `per` samples (the last bucket may be partial). */
export function downsample(values: readonly number[], per: number): number[] {
  if (per <= 1) return values.slice();
  const out: number[] = [];
  const start = values.length % per;
  if (start > 0) out.push(mean(values.slice(0, start)));
  for (let k = start; k < values.length; k += per) out.push(mean(values.slice(k, k + per)));
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** What `containerLineage` needs of a migration record. */
export interface LineageLink {
  readonly containerId: string;
  readonly destinationContainerId?: string;
  readonly state: string;
}

/**
 * The ids a container has had, oldest first, ending with `currentId`. A migration gives the
 * container a new id on its destination (its name stays), so a history keyed by id starts over
 * after every move; following committed migrations back from the current id recovers the whole
 * history of the same container. Cycles and chains longer than `maxHops` are cut.
 */
export function containerLineage(currentId: string, migrations: readonly LineageLink[], maxHops = 100): string[] {
  const from = new Map<string, string>();
  for (const m of migrations) if (m.state === "committed" && m.destinationContainerId) from.set(m.destinationContainerId, m.containerId);
  const ids = [currentId];
  const seen = new Set(ids);
  for (let id = from.get(currentId); id !== undefined && !seen.has(id) && ids.length <= maxHops; id = from.get(id)) {
    ids.unshift(id);
    seen.add(id);
  }
  return ids;
}

/** Histories of successive ids joined in time order (a point not after the previous one is dropped), newest `limit` kept. */
export function joinHistories<T extends { readonly t: number }>(parts: readonly (readonly T[])[], limit: number): T[] {
  const out: T[] = [];
  for (const part of parts) for (const p of part) if (out.length === 0 || p.t > out[out.length - 1]!.t) out.push(p);
  return out.slice(Math.max(0, out.length - limit));
}
