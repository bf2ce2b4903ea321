import type { NetworkChoice } from "../../../../shared/src/contracts/cluster-network.js";
import { inRange } from "../../../../shared/src/contracts/cluster-network.js";
import { ValidationError } from "../../../../shared/src/errors.js";
import type { AddressClaims } from "./address-claims.js";

export interface Attachment {
  network: NetworkChoice;
  ipv4Address?: string;
}

/**
 * Decides how a new container is connected: on the cluster network (the default when control has
 * one) at an address claimed for it, or on none. Without a cluster network only "none" works.
 */
export class NetworkAttachments {
  constructor(private readonly claims: AddressClaims | undefined) {}

  get clusterNetwork(): boolean {
    return this.claims !== undefined;
  }

  async attach(container: string, asked: NetworkChoice | undefined, want: string | undefined): Promise<Attachment> {
    const network = asked ?? (this.claims ? "cluster" : "none");
    if (network === "none") {
      if (want !== undefined) throw new ValidationError("ipv4Address", 'only a container on the cluster network has an address (network "cluster")');
      return { network };
    }
    if (!this.claims) throw new ValidationError("network", "this control has no cluster network (set HERD_CLUSTER_RANGE); use network none");
    if (want !== undefined && !inRange(this.claims.range, want)) {
      throw new ValidationError("ipv4Address", `${want} is outside the cluster range ${this.claims.range.first}-${this.claims.range.last}`);
    }
    return { network, ipv4Address: await this.claims.claim(container, want) };
  }

  /** The container was not created after all: its address goes back. */
  async detach(container: string, a: Attachment): Promise<void> {
    if (a.network === "cluster") await this.claims?.release(container);
  }
}
