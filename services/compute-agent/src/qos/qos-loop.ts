import { QOS_EVENT_VERSION, type QosActuation, type QosContainerStatus, type QosEvent } from "../../../../shared/src/contracts/qos-events.js";
import { errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { DiscoveredContainer } from "../discovery/container-discovery.js";
import type { MetricSource } from "../metrics/metric-source.js";
import { RateCalculator } from "../metrics/rate-calculator.js";
import type { CgroupLimiter, ContainerLimits } from "./cgroup-limits.js";
import type { ContainerInterfaces } from "./container-interfaces.js";
import { limitsView, type Desired, type QosController, type QosMember } from "./qos-controller.js";
import { parseQosLabels } from "./qos-labels.js";
import type { TrafficShaper } from "./traffic-shaper.js";

export interface QosLoopOptions {
  nodeId: string;
  periodMs: number;
  enabled: boolean;
  controllers: QosController[];
  discovery: { list(): Promise<DiscoveredContainer[]> };
  metrics: MetricSource;
  limiter: CgroupLimiter;
  shaper: TrafficShaper;
  interfaces: ContainerInterfaces;
  publish: (event: QosEvent) => Promise<void>;
  log: Logger;
  now?: () => number;
}

interface Applied {
  name: string;
  pid: number;
  iface?: string;
  rateKbit?: number;
  cgroup?: ContainerLimits;
}

/** Changes smaller than this fraction are not written (the PID moves a little every period). */
const TOLERANCE = 0.02;

/**
 * The node's QoS loop: each period it finds the containers that opted in by label, measures their
 * CPU and memory, lets every controller decide, and is the one place that writes limits — each
 * change logged and published as a `qos.actuation` event. A container that leaves (or stops
 * opting in, or the whole feature is off) has its limits removed the same way.
 */
export class QosLoop {
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly applied = new Map<string, Applied>();
  private readonly rates = new RateCalculator();
  private lastRoundAt?: number;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly o: QosLoopOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => void this.round(), this.o.periodMs);
    this.o.log.info("QoS loop started", {
      enabled: this.o.enabled,
      periodMs: this.o.periodMs,
      cgroupVersion: this.o.limiter.version,
      controllers: this.o.controllers.map((c) => c.name),
    });
  }

  /** One control period; skipped if the previous one still runs. */
  async round(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      await this.roundInner();
    } catch (err) {
      this.o.log.warn("QoS round failed", { error: errorMessage(err) });
    } finally {
      this.running = false;
    }
  }

  private async roundInner(): Promise<void> {
    const now = this.now();
    const dtSeconds = this.lastRoundAt === undefined ? this.o.periodMs / 1000 : Math.max(0.001, (now - this.lastRoundAt) / 1000);
    this.lastRoundAt = now;
    const containers = (await this.o.discovery.list()).filter((c) => c.state === "running" && c.pid > 0);
    const members: QosMember[] = [];
    const labelErrors: QosContainerStatus[] = [];
    if (this.o.enabled) {
      for (const c of containers) {
        const parsed = parseQosLabels(c.labels);
        if (!parsed.ok) {
          labelErrors.push({ id: c.id, name: c.name, controller: "pid-guard", qosClass: "network", limits: {}, error: parsed.error });
          continue;
        }
        if (parsed.optIns.length > 0) members.push({ id: c.id, name: c.name, pid: c.pid, optIns: parsed.optIns });
      }
    }
    if (members.some((m) => m.optIns.some((o) => o.kind === "fair"))) {
      const raw = await this.o.metrics.sample(members.map((m) => ({ id: m.id, pid: m.pid })));
      const { containers: usage } = this.rates.update(raw);
      for (const m of members) {
        const u = usage.get(m.id);
        if (u && raw.containers.some((r) => r.id === m.id)) {
          m.cpuMillicores = u.cpuPct * 10;
          m.memBytes = u.memBytes;
        }
      }
    }

    const desired = new Map<string, Desired>();
    const status: QosContainerStatus[] = [...labelErrors];
    const present = new Set(members.map((m) => m.id));
    for (const controller of this.o.controllers) {
      const mine = members.filter((m) => m.optIns.some((o) => (controller.name === "fair-share" ? o.kind === "fair" : o.kind !== "fair")));
      try {
        const decision = await controller.step(mine, { dtSeconds, now });
        for (const [id, d] of decision.desired) desired.set(id, mergeDesired(desired.get(id), d));
        status.push(...decision.status);
        if (decision.migrate) {
          this.o.log.warn("Asking for a migration", { container: decision.migrate.container, reason: decision.migrate.reason });
          await this.publish({
            v: QOS_EVENT_VERSION,
            kind: "qos.migration-request",
            nodeId: this.o.nodeId,
            container: decision.migrate.container,
            reason: decision.migrate.reason,
            at: now,
          });
        }
      } catch (err) {
        this.o.log.warn("QoS controller failed", { controller: controller.name, error: errorMessage(err) });
      }
    }

    for (const m of members) {
      const d = desired.get(m.id);
      if (d) await this.actuate(m, d, controllerOf(m));
    }
    for (const [id, a] of [...this.applied]) {
      if (present.has(id) && desired.has(id)) continue;
      const why = !this.o.enabled ? "QoS is turned off" : containers.some((c) => c.id === id) ? "no longer opted in" : "container left the node";
      await this.release(id, a, why);
      for (const c of this.o.controllers) c.forget(id);
    }
    for (const s of status) {
      const a = this.applied.get(s.id);
      if (a?.iface && s.limits.rateKbit !== undefined) s.limits.iface = a.iface;
    }
    await this.publish({
      v: QOS_EVENT_VERSION,
      kind: "qos.status",
      nodeId: this.o.nodeId,
      enabled: this.o.enabled,
      periodMs: this.o.periodMs,
      containers: status,
      at: now,
    });
  }

  private async actuate(m: QosMember, d: Desired, controller: QosActuation["controller"]): Promise<void> {
    const a = this.applied.get(m.id) ?? { name: m.name, pid: m.pid };
    this.applied.set(m.id, a);
    try {
      if (d.rateKbit !== undefined && changed(a.rateKbit, d.rateKbit)) {
        a.iface ??= (await this.o.interfaces.nodeSideOf(m.pid)) ?? undefined;
        if (a.iface === undefined) throw new Error("has no interface in this node's namespace to shape (network none or host?)");
        await this.o.shaper.setRate(a.iface, d.rateKbit);
        a.rateKbit = d.rateKbit;
        await this.record(m.id, m.name, controller, "tc", "set", { rateKbit: Math.round(d.rateKbit), iface: a.iface }, undefined, "controller output changed");
      }
      if (d.cgroup && cgroupChanged(a.cgroup, d.cgroup)) {
        const writes = await this.o.limiter.apply({ id: m.id, pid: m.pid }, d.cgroup);
        a.cgroup = { ...a.cgroup, ...d.cgroup };
        await this.record(m.id, m.name, controller, "cgroup", "set", limitsView({ cgroup: d.cgroup }), writes, "controller output changed");
      }
    } catch (err) {
      this.o.log.warn("QoS actuation failed", { containerId: m.id, container: m.name, error: errorMessage(err) });
    }
  }

  private async release(id: string, a: Applied, why: string): Promise<void> {
    this.applied.delete(id);
    if (a.iface !== undefined) {
      try {
        await this.o.shaper.clear(a.iface);
        await this.record(id, a.name, "cleanup", "tc", "clear", { iface: a.iface }, undefined, why);
      } catch (err) {
        this.o.log.warn("Could not remove tc rate", { containerId: id, iface: a.iface, error: errorMessage(err) });
      }
    }
    if (a.cgroup !== undefined) {
      try {
        const writes = await this.o.limiter.clear({ id, pid: a.pid });
        await this.record(id, a.name, "cleanup", "cgroup", "clear", {}, writes, why);
      } catch (err) {
        this.o.log.warn("Could not remove cgroup limits", { containerId: id, error: errorMessage(err) });
      }
    }
  }

  private async record(
    containerId: string,
    containerName: string,
    controller: QosActuation["controller"],
    actuator: "tc" | "cgroup",
    action: "set" | "clear",
    limits: QosActuation["limits"],
    writes: QosActuation["writes"],
    reason: string,
  ): Promise<void> {
    this.o.log.info("QoS actuation", { containerId, container: containerName, controller, actuator, action, limits, writes, reason });
    await this.publish({
      v: QOS_EVENT_VERSION,
      kind: "qos.actuation",
      nodeId: this.o.nodeId,
      containerId,
      containerName,
      controller,
      actuator,
      action,
      limits,
      ...(writes ? { writes } : {}),
      reason,
      at: this.now(),
    });
  }

  private async publish(event: QosEvent): Promise<void> {
    await this.o.publish(event).catch((err: unknown) => this.o.log.debug("QoS event not sent", { kind: event.kind, error: errorMessage(err) }));
  }

  /** Removes every limit this loop holds (feature off, agent stopping). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running) await new Promise((r) => setTimeout(r, 20));
    for (const [id, a] of [...this.applied]) await this.release(id, a, "agent stopping");
  }

  /** Containers currently limited (for tests). */
  get limited(): ReadonlyMap<string, Readonly<Applied>> {
    return this.applied;
  }
}

function controllerOf(m: QosMember): QosActuation["controller"] {
  return m.optIns.some((o) => o.kind !== "fair") ? "pid-guard" : "fair-share";
}

function mergeDesired(a: Desired | undefined, b: Desired): Desired {
  if (!a) return b;
  return { ...a, ...b, ...(a.cgroup || b.cgroup ? { cgroup: { ...a.cgroup, ...b.cgroup } } : {}) };
}

function changed(prev: number | undefined, next: number): boolean {
  return prev === undefined || Math.abs(next - prev) > TOLERANCE * Math.max(Math.abs(prev), 1);
}

function cgroupChanged(prev: ContainerLimits | undefined, next: ContainerLimits): boolean {
  if (!prev) return true;
  if (next.cpuMillicores !== undefined && changed(prev.cpuMillicores, next.cpuMillicores)) return true;
  if (next.cpuWeight !== undefined && changed(prev.cpuWeight, next.cpuWeight)) return true;
  if (next.memorySoftBytes !== undefined && changed(prev.memorySoftBytes, next.memorySoftBytes)) return true;
  if (next.writeBps !== undefined && (prev.writeBps?.device !== next.writeBps.device || changed(prev.writeBps?.bytesPerSecond, next.writeBps.bytesPerSecond)))
    return true;
  return false;
}
