import type { QosContainerStatus, QosLimits } from "../../../../shared/src/contracts/qos-events.js";
import type { ContainerLimits } from "./cgroup-limits.js";
import type { QosOptIn } from "./qos-labels.js";

/** A running container that opted in, with what the loop measured this period. */
export interface QosMember {
  id: string;
  name: string;
  pid: number;
  optIns: QosOptIn[];
  /** CPU used over the last period, thousandths of a core (undefined on the first period). */
  cpuMillicores?: number;
  memBytes?: number;
}

/** What a controller wants held on one container from now on. */
export interface Desired {
  rateKbit?: number;
  cgroup?: ContainerLimits;
}

export interface ControllerDecision {
  desired: Map<string, Desired>;
  status: QosContainerStatus[];
  /** Ask the control service to move a container off this node. */
  migrate?: { container: string; reason: string };
}

export interface RoundContext {
  dtSeconds: number;
  now: number;
}

/**
 * A node QoS controller, plugged into the loop. Contract: `step` decides from the period's
 * measurements (it may probe, but never writes a limit itself — the loop owns every actuator,
 * logs and publishes each change, and undoes limits of containers no controller wants).
 * `forget` drops per-container state of a container that left.
 */
export interface QosController {
  readonly name: "pid-guard" | "fair-share";
  step(members: readonly QosMember[], ctx: RoundContext): Promise<ControllerDecision>;
  forget(containerId: string): void;
}

export function limitsView(d: Desired, iface?: string, device?: string): QosLimits {
  return {
    ...(d.rateKbit !== undefined ? { rateKbit: d.rateKbit, ...(iface ? { iface } : {}) } : {}),
    ...(d.cgroup?.cpuMillicores !== undefined ? { cpuMillicores: d.cgroup.cpuMillicores } : {}),
    ...(d.cgroup?.memorySoftBytes !== undefined ? { memorySoftBytes: d.cgroup.memorySoftBytes } : {}),
    ...(d.cgroup?.writeBps !== undefined ? { writeBps: d.cgroup.writeBps.bytesPerSecond, device: device ?? d.cgroup.writeBps.device } : {}),
  };
}
