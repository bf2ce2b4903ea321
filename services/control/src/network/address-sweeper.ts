import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MigrationStore } from "../migration/migration-store.js";
import type { AddressClaim, AddressClaims } from "./address-claims.js";

/** A claim's container has not been seen for this long: its address goes back (overridable). */
export const ORPHAN_GRACE_MS = 5 * 60_000;

export interface SweepInput {
  claims: readonly AddressClaim[];
  /** Names some node reports (any state, up or down nodes alike: a down node may still run it). */
  reported: ReadonlySet<string>;
  /** Names a migration holds now. */
  moving: ReadonlySet<string>;
  /** When each name was first seen missing, from the previous sweep. */
  missingSince: ReadonlyMap<string, number>;
  now: number;
  graceMs: number;
}

export interface SweepDecision {
  release: AddressClaim[];
  missingSince: Map<string, number>;
}

/**
 * Which claims are orphans: the claim is older than the grace, no node reports a container under
 * its name, no migration holds the name, and that has been so for the whole grace. A container
 * being created (young claim) or moved (migration lock) keeps its address; so does one on a node
 * that stopped reporting, because its record stays until the node reports again: an address is
 * never handed out while it may still be live somewhere.
 */
export function decideSweep(i: SweepInput): SweepDecision {
  const release: AddressClaim[] = [];
  const missingSince = new Map<string, number>();
  for (const c of i.claims) {
    if (i.reported.has(c.container) || i.moving.has(c.container) || i.now - c.claimedAt < i.graceMs) continue;
    const since = i.missingSince.get(c.container) ?? i.now;
    if (i.now - since >= i.graceMs) release.push(c);
    else missingSince.set(c.container, since);
  }
  return { release, missingSince };
}

export interface AddressSweeperOptions {
  claims: AddressClaims;
  /** Only names are read: any container listing will do. */
  state: { listContainers(): Promise<ReadonlyArray<{ name: string }>> };
  migrations: Pick<MigrationStore, "lockHolder">;
  log: Logger;
  /** Only the leader sweeps (a deposed one would race the new one's view). */
  mayRun: () => boolean;
  graceMs?: number;
  now?: () => number;
}

/**
 * Gives back the addresses of containers that went away behind Herd's back (`docker rm` on a node,
 * a `herd run` whose answer was lost and whose container never appeared). `herd rm` frees an
 * address at once; this is the safety net, run by the leader every `everyMs`.
 */
export class AddressSweeper {
  private missingSince = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly o: AddressSweeperOptions) {}

  start(everyMs = 30_000): void {
    this.timer ??= setInterval(() => void this.sweepOnce(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep; answers the addresses released. Never throws (a failed sweep is logged and retried next time). */
  async sweepOnce(): Promise<string[]> {
    if (this.running || !this.o.mayRun()) return [];
    this.running = true;
    try {
      const claims = await this.o.claims.list();
      if (claims.length === 0) {
        this.missingSince.clear();
        return [];
      }
      const reported = new Set((await this.o.state.listContainers()).map((c) => c.name));
      const moving = new Set<string>();
      for (const c of claims) if (!reported.has(c.container) && (await this.o.migrations.lockHolder(c.container))) moving.add(c.container);
      const now = (this.o.now ?? Date.now)();
      const d = decideSweep({ claims, reported, moving, missingSince: this.missingSince, now, graceMs: this.o.graceMs ?? ORPHAN_GRACE_MS });
      this.missingSince = d.missingSince;
      const released: string[] = [];
      // Looked at again just before: a container may have appeared under the name meanwhile.
      const reportedNow = d.release.length > 0 ? new Set((await this.o.state.listContainers()).map((c) => c.name)) : reported;
      for (const c of d.release) {
        if (reportedNow.has(c.container)) continue;
        await this.o.claims.release(c.container);
        released.push(c.address);
        this.o.log.info("Released the address of a container no node reports", { container: c.container, address: c.address });
      }
      return released;
    } catch (err) {
      this.o.log.warn("Address sweep failed", { error: errorMessage(err) });
      return [];
    } finally {
      this.running = false;
    }
  }
}
