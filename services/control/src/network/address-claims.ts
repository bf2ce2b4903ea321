import type { AddressRange } from "../../../../shared/src/contracts/cluster-network.js";

/** Who holds an address of the cluster network. */
export interface AddressClaim {
  address: string;
  container: string;
  /** When it was claimed (epoch ms). */
  claimedAt: number;
}

/**
 * Control's record of which container holds which cluster address. Contract: an address is held
 * by at most one container and a container holds at most one address; `claim` is idempotent for
 * the same container (it answers the address it already holds); claims follow the container's
 * name, not its node, so a migrated container keeps its address.
 * Errors: ConflictError when a requested address is taken or the range is exhausted.
 */
export interface AddressClaims {
  readonly range: AddressRange;
  /** Claims `want` (or the first free address of the range) for `container`. */
  claim(container: string, want?: string): Promise<string>;
  /** Gives the container's address back; no-op when it holds none. */
  release(container: string): Promise<void>;
  list(): Promise<AddressClaim[]>;
}
