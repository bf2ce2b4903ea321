/**
 * The broker's user registry as node join needs it: give a node its own user with least
 * privilege (its own command queue, telemetry and events under its own routing keys only).
 * Granting again replaces the password; it never widens another user's rights.
 */
export interface NodeUsers {
  grant(nodeId: string, password: string): Promise<void>;
}
