import type { QosContainerStatus } from "../../../../shared/src/contracts/qos-events.js";
import { allocateFairShare, estimateDemand, type ShareRequest } from "./fair-share.js";
import type { ControllerDecision, Desired, QosController, QosMember } from "./qos-controller.js";
import { limitsView } from "./qos-controller.js";

/** ResCoin's α: 0.7 for CPU, 0.8 for memory. */
const CPU_ALPHA = 0.7;
const MEM_ALPHA = 0.8;

export interface FairShareCapacity {
  /** CPU handed out among the fair-shared containers, thousandths of a core. */
  cpuMillicores: number;
  /** Memory handed out as soft limits; 0 leaves memory alone. */
  memoryBytes: number;
}

interface ShareState {
  cpuEstimate?: number;
  memEstimate?: number;
  cpuAllocation?: number;
}

/**
 * ResCoin's fair share of CPU (and memory) among the containers labelled `herd.share=fair`: EWMA
 * demand estimates, the credit-weighted allocation of fair-share.ts, enforced as CPU quota (and
 * memory soft limit). Credits stay with a container while it is on this node.
 */
export class FairShareController implements QosController {
  readonly name = "fair-share" as const;
  private readonly state = new Map<string, ShareState>();
  private cpuCredits = new Map<string, number>();
  private memCredits = new Map<string, number>();

  constructor(private readonly capacity: () => FairShareCapacity) {}

  forget(containerId: string): void {
    this.state.delete(containerId);
    this.cpuCredits.delete(containerId);
    this.memCredits.delete(containerId);
  }

  /** Credits per container (for status and tests). */
  credits(): ReadonlyMap<string, number> {
    return this.cpuCredits;
  }

  async step(members: readonly QosMember[]): Promise<ControllerDecision> {
    const desired = new Map<string, Desired>();
    const status: QosContainerStatus[] = [];
    const fair = members.flatMap((m) => m.optIns.flatMap((o) => (o.kind === "fair" ? [{ m, o }] : [])));
    if (fair.length === 0) return { desired, status };
    const cap = this.capacity();
    const totalWeight = fair.reduce((s, f) => s + f.o.weight, 0);
    const cpuRequests: ShareRequest[] = [];
    const memRequests: ShareRequest[] = [];
    for (const { m, o } of fair) {
      const st = this.state.get(m.id) ?? {};
      this.state.set(m.id, st);
      if (m.cpuMillicores !== undefined) st.cpuEstimate = estimateDemand(st.cpuEstimate, m.cpuMillicores, st.cpuAllocation, CPU_ALPHA);
      if (m.memBytes !== undefined) st.memEstimate = estimateDemand(st.memEstimate, m.memBytes, undefined, MEM_ALPHA);
      const template = (cap.cpuMillicores * o.weight) / totalWeight;
      cpuRequests.push({ id: m.id, estimate: st.cpuEstimate ?? template, min: Math.min(template, o.minMillicores ?? template / 10), weight: o.weight });
      const memTemplate = (cap.memoryBytes * o.weight) / totalWeight;
      memRequests.push({ id: m.id, estimate: st.memEstimate ?? memTemplate, min: 0, weight: o.weight });
    }
    // Static baseline: those containers sit at their template; the credit scheme shares the rest.
    const isStatic = new Set(fair.filter((f) => f.o.mode === "static").map((f) => f.m.id));
    const staticCpu = cpuRequests.filter((r) => isStatic.has(r.id)).reduce((s, r) => s + (cap.cpuMillicores * (r.weight ?? 1)) / totalWeight, 0);
    const staticMem = memRequests.filter((r) => isStatic.has(r.id)).reduce((s, r) => s + (cap.memoryBytes * (r.weight ?? 1)) / totalWeight, 0);
    const fairCpu = cpuRequests.filter((r) => !isStatic.has(r.id));
    const fairMem = memRequests.filter((r) => !isStatic.has(r.id));
    const cpu = fairCpu.length ? allocateFairShare(cap.cpuMillicores - staticCpu, fairCpu, this.cpuCredits) : undefined;
    if (cpu) this.cpuCredits = new Map([...this.cpuCredits, ...cpu.credits]);
    const mem = cap.memoryBytes > 0 && fairMem.length ? allocateFairShare(cap.memoryBytes - staticMem, fairMem, this.memCredits) : undefined;
    if (mem) this.memCredits = new Map([...this.memCredits, ...mem.credits]);
    const template = (id: string, total: number) => (total * (fair.find((f) => f.m.id === id)?.o.weight ?? 1)) / totalWeight;
    for (const { m } of fair) {
      const st = this.state.get(m.id) ?? {};
      const cpuAlloc = Math.round(isStatic.has(m.id) ? template(m.id, cap.cpuMillicores) : (cpu?.allocations.get(m.id) ?? 0));
      st.cpuAllocation = cpuAlloc;
      const memAlloc = isStatic.has(m.id) ? (cap.memoryBytes > 0 ? template(m.id, cap.memoryBytes) : undefined) : mem?.allocations.get(m.id);
      const d: Desired = { cgroup: { cpuMillicores: cpuAlloc, ...(memAlloc !== undefined ? { memorySoftBytes: Math.round(memAlloc) } : {}) } };
      desired.set(m.id, d);
      status.push({
        id: m.id,
        name: m.name,
        controller: this.name,
        qosClass: "fair",
        demand: Math.round(st.cpuEstimate ?? 0),
        allocation: cpuAlloc,
        ...(isStatic.has(m.id) ? {} : { credits: Math.round(cpu?.credits.get(m.id) ?? 0) }),
        limits: limitsView(d),
      });
    }
    return { desired, status };
  }
}
