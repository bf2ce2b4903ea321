import { errorMessage } from "../../../../shared/src/errors.js";
import type { QosContainerStatus } from "../../../../shared/src/contracts/qos-events.js";
import type { LatencyProbe } from "./latency-probe.js";
import { CONTROL_LIMITS, CONTROL_SATURATION_ROUNDS, PidController, clamp } from "./pid-controller.js";
import type { ControllerDecision, Desired, QosController, QosMember, RoundContext } from "./qos-controller.js";
import { limitsView } from "./qos-controller.js";

/** Where a container can be reached from the node's namespace. */
export interface ContainerAddresses {
  addressOf(containerId: string): Promise<string | null>;
}

export const QOS_MIGRATION_REASON = `QoS: latency target missed for ${CONTROL_SATURATION_ROUNDS} periods`;

/** The controller aims this far under the target (% of target), so its P-term offset lands inside it. */
export const SETPOINT_PCT = 80;
/** Smoothing of the probed latency before the PID sees it (the probe is noisy; see the note in issue 15). */
const MEASUREMENT_EWMA = 0.5;

export interface StorageNeighbour {
  id: string;
  baseBps: number;
  minBps: number;
}

/**
 * CONtrol's capacity split as a pure function. The output u (−50…200) is the share of the
 * service's base rate moved from storage to network, in percent: the service gets
 * base·(1 + u/100); the same number of bytes per second is taken from the storage neighbours'
 * write limits (in proportion to what each can give above its minimum; u < 0 gives them more).
 * `maxOutput` is how far u can go before a neighbour would drop below its minimum.
 */
export function splitCapacity(
  u: number,
  baseKbit: number,
  neighbours: readonly StorageNeighbour[],
): { rateKbit: number; writeBps: Map<string, number>; maxOutput: number } {
  const spare = neighbours.reduce((s, n) => s + (n.baseBps - n.minBps), 0);
  const baseBytes = (baseKbit * 1000) / 8;
  const maxOutput = neighbours.length === 0 ? CONTROL_LIMITS.max : clamp((100 * spare) / baseBytes, 1, CONTROL_LIMITS.max);
  const out = clamp(u, CONTROL_LIMITS.min, maxOutput);
  const shiftBytes = (baseBytes * out) / 100;
  const writeBps = new Map<string, number>();
  for (const n of neighbours) {
    const part = spare > 0 ? (n.baseBps - n.minBps) / spare : 1 / neighbours.length;
    writeBps.set(n.id, Math.max(n.minBps, n.baseBps - shiftBytes * part));
  }
  return { rateKbit: baseKbit * (1 + out / 100), writeBps, maxOutput };
}

interface GuardState {
  pid: PidController;
  smoothed?: number;
  lastMeasured?: number;
  /** No second migration request before this time. */
  quietUntil: number;
}

/**
 * CONtrol's guard: one PID loop per latency-sensitive container (`herd.qos.class=network`) on its
 * probed latency, shifting capacity between its interface (tc) and the node's storage containers
 * (`herd.qos.class=storage`, write throttling). Saturated for 3 periods → migration request for
 * the heaviest storage neighbour (the one whose traffic is in the way), or the service itself when
 * it has no neighbour.
 */
export class PidGuardController implements QosController {
  readonly name = "pid-guard" as const;
  private readonly state = new Map<string, GuardState>();

  constructor(
    private readonly probe: LatencyProbe,
    private readonly addresses: ContainerAddresses,
    private readonly storageDevice: () => string,
    private readonly opts: { probeSamples?: number; probeTimeoutMs?: number; migrationQuietMs?: number } = {},
  ) {}

  forget(containerId: string): void {
    this.state.delete(containerId);
  }

  async step(members: readonly QosMember[], ctx: RoundContext): Promise<ControllerDecision> {
    const desired = new Map<string, Desired>();
    const status: QosContainerStatus[] = [];
    const services = members.flatMap((m) => m.optIns.flatMap((o) => (o.kind === "network" ? [{ m, o }] : [])));
    const neighbours = members.flatMap((m) =>
      m.optIns.flatMap((o) => (o.kind === "storage" ? [{ m, n: { id: m.id, baseBps: o.baseBps, minBps: o.minBps } }] : [])),
    );
    // Storage is only throttled to protect a guarded service: without one, neighbours run free.
    if (services.length === 0) return { desired, status };
    let migrate: ControllerDecision["migrate"];
    // Several guarded services share the neighbours: the most demanding output wins the split.
    let storageOutput = CONTROL_LIMITS.min;
    for (const { m, o } of services) {
      const st = this.state.get(m.id) ?? { pid: new PidController(), quietUntil: 0 };
      this.state.set(m.id, st);
      const split0 = splitCapacity(
        0,
        o.baseKbit,
        neighbours.map((x) => x.n),
      );
      st.pid.setLimits({ min: CONTROL_LIMITS.min, max: split0.maxOutput });
      let error: string | undefined;
      let saturatedRounds = st.pid.saturatedRounds;
      try {
        const address = await this.addresses.addressOf(m.id);
        if (address === null) throw new Error("no address to probe (is it on a network?)");
        const measured = await this.probe.measure({
          address,
          port: o.probePort,
          bytes: o.probeBytes,
          samples: this.opts.probeSamples ?? 5,
          timeoutMs: this.opts.probeTimeoutMs ?? 700,
          statistic: "mean",
        });
        st.lastMeasured = measured;
        st.smoothed = st.smoothed === undefined ? measured : MEASUREMENT_EWMA * measured + (1 - MEASUREMENT_EWMA) * st.smoothed;
        // Static baseline: measured and shown, but the split stays at the base shares.
        const step = o.mode === "static" ? undefined : st.pid.step(SETPOINT_PCT, (100 * st.smoothed) / o.targetMs, ctx.dtSeconds);
        saturatedRounds = step?.saturatedRounds ?? 0;
        if (step && step.saturatedRounds >= CONTROL_SATURATION_ROUNDS && ctx.now >= st.quietUntil) {
          const heaviest = [...neighbours].sort((a, b) => b.n.baseBps - a.n.baseBps)[0];
          migrate = { container: heaviest?.m.name ?? m.name, reason: QOS_MIGRATION_REASON };
          st.quietUntil = ctx.now + (this.opts.migrationQuietMs ?? 60_000);
        }
      } catch (err) {
        // No measurement this period: hold the current output (never act on a guess).
        error = errorMessage(err);
      }
      const split = splitCapacity(
        st.pid.output,
        o.baseKbit,
        neighbours.map((x) => x.n),
      );
      storageOutput = Math.max(storageOutput, st.pid.output);
      const d: Desired = { rateKbit: split.rateKbit };
      desired.set(m.id, d);
      status.push({
        id: m.id,
        name: m.name,
        controller: this.name,
        qosClass: "network",
        targetMs: o.targetMs,
        ...(st.lastMeasured !== undefined ? { measuredMs: round2(st.lastMeasured) } : {}),
        output: round2(st.pid.output),
        saturatedRounds,
        limits: limitsView(d),
        ...(error ? { error } : {}),
      });
    }
    const baseKbit = services[0]?.o.baseKbit ?? 0;
    const split = splitCapacity(
      services.length ? storageOutput : 0,
      Math.max(baseKbit, 1),
      neighbours.map((x) => x.n),
    );
    const device = this.storageDevice();
    for (const { m, n } of neighbours) {
      const bps = Math.round(split.writeBps.get(n.id) ?? n.baseBps);
      const d: Desired = { cgroup: { writeBps: { device, bytesPerSecond: bps } } };
      desired.set(m.id, d);
      status.push({ id: m.id, name: m.name, controller: this.name, qosClass: "storage", limits: limitsView(d) });
    }
    return { desired, status, ...(migrate ? { migrate } : {}) };
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
