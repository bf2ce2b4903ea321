import { randomUUID } from "node:crypto";
import { ConflictError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { StateStore } from "../state/state-store.js";
import { decideHolder, type ContainerNames, type NameClaim } from "./container-names.js";

export interface NameGuardOptions {
  names: ContainerNames;
  state: StateStore;
  log: Logger;
  now?: () => number;
  /** How long a claim the node has not confirmed yet counts as "being created". */
  pendingGraceMs?: number;
  /** How much newer than a confirmation a node's report must be to prove the container gone. */
  reportLagMs?: number;
}

/** Bounded retries of claim → take over a stale claim, should other callers keep racing us. */
const MAX_ATTEMPTS = 5;

/**
 * Makes container names unique across the cluster: a name is claimed in Redis before a node is
 * asked to create the container, and refused (ConflictError naming the node) while any node
 * reports a container under it or another claim for it is young.
 */
export class ContainerNameGuard {
  private readonly now: () => number;
  private readonly pendingGraceMs: number;
  private readonly reportLagMs: number;

  constructor(private readonly o: NameGuardOptions) {
    this.now = o.now ?? Date.now;
    this.pendingGraceMs = o.pendingGraceMs ?? 120_000;
    this.reportLagMs = o.reportLagMs ?? 5_000;
  }

  /** Claims `name` for a container about to start on `nodeId`, or throws ConflictError naming who holds it. */
  async claim(name: string, nodeId: string): Promise<NameClaim> {
    const mine: NameClaim = { name, nodeId, claimId: randomUUID(), claimedAt: this.now() };
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const reported = (await this.o.state.listContainers()).filter((c) => c.name === name).map((c) => ({ id: c.id, nodeId: c.nodeId, state: c.state }));
      if (reported.length > 0) throw this.conflict(name, decideHolder(reported, undefined, this.timing(undefined)));
      const holder = await this.o.names.claim(mine);
      if (holder === undefined) {
        this.o.log.debug("Claimed container name", { name, nodeId, claimId: mine.claimId });
        return mine;
      }
      const decision = decideHolder([], holder, this.timing((await this.o.state.getNode(holder.nodeId))?.lastTelemetryAt));
      if (decision.kind === "held") throw this.conflict(name, decision);
      // The claim's container is gone from every node: the name is free again.
      if (await this.o.names.takeOver(holder, { ...mine, claimedAt: this.now() })) {
        this.o.log.info("Took over a stale name claim", { name, nodeId, staleNode: holder.nodeId, staleContainer: holder.containerId });
        return { ...mine, claimedAt: this.now() };
      }
    }
    throw new ConflictError(`name ${name} is contended; try again`);
  }

  async confirm(claim: NameClaim, containerId: string): Promise<void> {
    await this.o.names.confirm(claim.name, claim.claimId, containerId, this.now());
  }

  /** Frees a claim whose container was never created. */
  async release(claim: NameClaim): Promise<void> {
    await this.o.names.release(claim.name, claim.claimId);
  }

  /** The container under `name` is gone for good (removed): its claim goes, whoever made it. */
  async forget(name: string): Promise<void> {
    const claim = await this.o.names.get(name);
    if (claim) await this.o.names.release(name, claim.claimId);
  }

  private timing(claimNodeReportedAt: number | undefined) {
    return { now: this.now(), pendingGraceMs: this.pendingGraceMs, reportLagMs: this.reportLagMs, claimNodeReportedAt };
  }

  private conflict(name: string, d: ReturnType<typeof decideHolder>): ConflictError {
    if (d.kind === "free") return new ConflictError(`name ${name} is in use`);
    return new ConflictError(`name ${name} is in use on node ${d.nodeId} (${d.why})`);
  }
}
