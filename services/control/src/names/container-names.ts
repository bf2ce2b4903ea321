import { z } from "zod";

/** Who holds a container name: the node it runs (or is being created) on, and since when. */
export const NameClaim = z.object({
  name: z.string().min(1),
  nodeId: z.string().min(1),
  /** Unique per claim: confirming, moving and releasing only act on the claim they were given. */
  claimId: z.string().min(1),
  claimedAt: z.number().int().nonnegative(),
  /** Set once the node created the container. */
  containerId: z.string().min(1).optional(),
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
  confirm(name: string, claimId: string, containerId: string): Promise<boolean>;
  /** A migration committed: the name now belongs to `containerId` on `nodeId`. */
  move(name: string, claimId: string, nodeId: string, containerId: string): Promise<boolean>;
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

/**
 * Who holds `name`, from what the nodes report and the claim in Redis. Pure. A container any node
 * reports under the name holds it (running or not: the engine keeps the name until removal). A
 * claim with no such container holds it only while young: the container is being created and
 * telemetry has not shown it yet. An older one is stale (its container was removed).
 */
export function decideHolder(reported: readonly NamedContainer[], claim: NameClaim | undefined, now: number, pendingGraceMs: number): HolderDecision {
  const running = reported.find((c) => c.state === "running") ?? reported[0];
  if (running) return { kind: "held", nodeId: running.nodeId, containerId: running.id, why: `container ${running.id.slice(0, 12)} (${running.state})` };
  if (claim && now - claim.claimedAt < pendingGraceMs) {
    return { kind: "held", nodeId: claim.nodeId, containerId: claim.containerId, why: "being created" };
  }
  return { kind: "free" };
}
