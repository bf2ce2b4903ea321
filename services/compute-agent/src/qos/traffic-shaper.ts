/**
 * Shapes the traffic a container receives on its interface. Contract: `setRate` is idempotent
 * (the same rate twice changes nothing visible), `clear` removes everything `setRate` installed
 * and succeeds when there is nothing to remove or the interface is gone.
 */
export interface TrafficShaper {
  setRate(iface: string, rateKbit: number): Promise<void>;
  clear(iface: string): Promise<void>;
  /** The rate in force on the interface, or null when it is not shaped (for checks and `herd qos`). */
  currentRate(iface: string): Promise<number | null>;
}
