import { z } from "zod";

/** Who holds a container name: the node it runs (or is being created) on, and since when. */
export const NameClaim = z.object({
  name: z.string().min(1),
  nodeId: z.string().min(1),
  /** Unique per claim: confirming, moving and releasing only act on the claim they were given. */
  claimId: z.string().min(1),
  claimedAt: z.number().int().nonnegative(),
  /** Set once the node created the container (or a migration moved it), with the time. */
  containerId: z.string().min(1).optional(),
  confirmedAt: z.number().int().nonnegative().optional(),
});
export type NameClaim = z.infer<typeof NameClaim>;

/**
 * Cluster-wide container names. Contract: at any time at most one claim per name exists; `claim`
 * is atomic (of any number of concurrent claims of a free name exactly one gets it, the others
 * get the winner); `confirm`, `move` and `release` act only on the claim they name (compare and
 * set on `claimId`), so a late caller never frees or rewrites someone else's claim; `move` keeps
 * the name held throughout (it is never free between the two nodes).
 */
export interface ContainerNames {
  /** Claims a free name; undefined = claimed, else the claim that holds it. */
  claim(c: NameClaim): Promise<NameClaim | undefined>;
  /** Replaces `stale` by `next` only if `stale` still holds the name; true if replaced. */
  takeOver(stale: NameClaim, next: NameClaim): Promise<boolean>;
  /** Records the created container's id on the claim. */
  confirm(name: string, claimId: string, containerId: string, at: number): Promise<boolean>;
  /** A migration committed: the name now belongs to `containerId` on `nodeId`. */
  move(name: string, claimId: string, nodeId: string, containerId: string, at: number): Promise<boolean>;
  release(name: string, claimId: string): Promise<boolean>;
  get(name: string): Promise<NameClaim | undefined>;
}

/** A container the registry knows under a name. */
export interface NamedContainer {
  id: string;
  nodeId: string;
  state: string;
}

export type HolderDecision = { kind: "held"; nodeId: string; containerId?: string; why: string } | { kind: "free" };

export interface HolderTiming {
  now: number;
  /** How long an unconfirmed claim (no answer from the node yet) holds the name. */
  pendingGraceMs: number;
  /** When the claim's node last reported its containers (undefined = never). */
  claimNodeReportedAt?: number;
  /** A report must be this much newer than the confirmation to prove the container gone (sampling lag). */
  reportLagMs: number;
}

/**
 * Who holds `name`, from what the nodes report and the claim in Redis. Pure.
 * - A container any node reports under the name holds it (running or not: the engine keeps the
 *   name until removal); the running copy's node is named (mid-migration there can be two).
 * - A confirmed claim with no reported container holds it until its node has reported its
 *   containers since the confirmation without it: then the container was removed and the name is free.
 * - An unconfirmed claim (the node has not answered yet) holds it while young.
 */
export function decideHolder(reported: readonly NamedContainer[], claim: NameClaim | undefined, t: HolderTiming): HolderDecision {
  const running = reported.find((c) => c.state === "running") ?? reported[0];
  if (running) return { kind: "held", nodeId: running.nodeId, containerId: running.id, why: `container ${running.id.slice(0, 12)} (${running.state})` };
  if (!claim) return { kind: "free" };
  if (claim.containerId !== undefined && claim.confirmedAt !== undefined) {
    const reportedSince = t.claimNodeReportedAt !== undefined && t.claimNodeReportedAt > claim.confirmedAt + t.reportLagMs;
    return reportedSince ? { kind: "free" } : { kind: "held", nodeId: claim.nodeId, containerId: claim.containerId, why: "just created" };
  }
  if (t.now - claim.claimedAt < t.pendingGraceMs) return { kind: "held", nodeId: claim.nodeId, why: "being created" };
  return { kind: "free" };
}
