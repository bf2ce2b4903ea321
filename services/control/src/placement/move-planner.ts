import { z } from "zod";
import { ValidationError } from "../../../../shared/src/errors.js";
import type { ClusterSnapshot, ProposedMove } from "./cluster-snapshot.js";
import { rangedInt, rangedNumber } from "./policy-args.js";

export const MoveBudget = z
  .object({
    /** Migrations running at once, cluster-wide (including those already in flight). */
    maxConcurrent: rangedInt(0, 1_000_000, 4),
    /** Migrations touching one node at once, as source or destination. */
    maxPerNode: rangedInt(0, 1_000_000, 2),
    /** A container moved less than this many seconds ago is not moved again. */
    cooldownSec: rangedNumber(0, 30 * 86400, 600),
    /** Plan only: report what would start, start nothing. */
    dryRun: z.boolean({ error: "must be true or false" }).default(false),
  })
  .strict();
export type MoveBudget = z.infer<typeof MoveBudget>;

export function parseMoveBudget(raw: unknown = {}): MoveBudget {
  const r = MoveBudget.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ValidationError(`budget.${issue.path.join(".") || "(args)"}`, issue.message);
  }
  return r.data;
}

/** No limits at all: what the published consolidation studies assume. */
export const UNLIMITED_BUDGET: MoveBudget = { maxConcurrent: 1_000_000, maxPerNode: 1_000_000, cooldownSec: 0, dryRun: false };

export interface PlannedMoves {
  /** Moves that may start now, in priority order (empty on a dry run). */
  readonly start: ProposedMove[];
  /** Moves the budgets allow (what would start, also on a dry run). */
  readonly allowed: ProposedMove[];
  readonly rejected: { move: ProposedMove; why: string }[];
  readonly dryRun: boolean;
}

/**
 * The single gate between policies and the migration orchestrator: a pure function that keeps,
 * in the policy's priority order, only the moves the budgets allow. The automatic loop must start
 * exactly `start` and nothing else.
 */
export function planMoves(s: ClusterSnapshot, proposals: readonly ProposedMove[], budget: MoveBudget): PlannedMoves {
  const nodes = new Map(s.nodes.map((n) => [n.id, n]));
  const containers = new Map(s.containers.map((c) => [c.id, c]));
  const perNode = new Map<string, number>();
  const busy = new Set<string>();
  for (const m of s.migrations) {
    busy.add(m.containerId);
    perNode.set(m.from, (perNode.get(m.from) ?? 0) + 1);
    perNode.set(m.to, (perNode.get(m.to) ?? 0) + 1);
  }
  let running = s.migrations.length;
  const allowed: ProposedMove[] = [];
  const rejected: { move: ProposedMove; why: string }[] = [];
  for (const m of proposals) {
    const c = containers.get(m.containerId);
    const from = nodes.get(m.from);
    const to = nodes.get(m.to);
    let why: string | undefined;
    if (!c) why = "unknown container";
    else if (c.nodeId !== m.from) why = `container is on ${c.nodeId}, not ${m.from}`;
    else if (!from || !to) why = "unknown node";
    else if (m.from === m.to) why = "source and destination are the same node";
    else if (!from.up || !to.up) why = `node ${!from.up ? m.from : m.to} is down`;
    else if (busy.has(m.containerId)) why = "container is already migrating or planned this round";
    else if (c.lastMigratedAt !== undefined && s.now - c.lastMigratedAt < budget.cooldownSec * 1000) {
      why = `cooldown: moved ${((s.now - c.lastMigratedAt) / 1000).toFixed(0)} s ago (< ${budget.cooldownSec} s)`;
    } else if (running >= budget.maxConcurrent) why = `cluster budget: ${running}/${budget.maxConcurrent} migrations running`;
    else if ((perNode.get(m.from) ?? 0) >= budget.maxPerNode) why = `node budget: ${m.from} already in ${budget.maxPerNode} migration(s)`;
    else if ((perNode.get(m.to) ?? 0) >= budget.maxPerNode) why = `node budget: ${m.to} already in ${budget.maxPerNode} migration(s)`;
    if (why) {
      rejected.push({ move: m, why });
      continue;
    }
    busy.add(m.containerId);
    running++;
    perNode.set(m.from, (perNode.get(m.from) ?? 0) + 1);
    perNode.set(m.to, (perNode.get(m.to) ?? 0) + 1);
    allowed.push(m);
  }
  return { start: budget.dryRun ? [] : allowed, allowed, rejected, dryRun: budget.dryRun };
}
