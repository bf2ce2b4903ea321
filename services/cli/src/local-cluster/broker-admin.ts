import type { BrokerSpec } from "./broker-permissions.js";

/**
 * Provisions Herd's vhost and users on the message broker. `provision` is idempotent (users that
 * exist get the spec's password, tags and permissions again); `deprovision` removes the vhost and
 * every Herd user, including ones a crashed `up` left without a state file.
 */
export interface BrokerAdmin {
  provision(spec: BrokerSpec): Promise<void>;
  deprovision(vhost: string): Promise<void>;
  /** Herd users and vhosts still present (for `down`'s leftover check). */
  leftovers(vhost: string): Promise<string[]>;
}
