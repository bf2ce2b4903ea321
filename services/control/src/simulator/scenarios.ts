import type { AlibabaMachine } from "../traces/alibaba.js";
import type { PlanetLabDay } from "../traces/planetlab.js";
import type { SimHostSpec, SimVmSpec, SimWorkload } from "./sim-model.js";

/** SPECpower tables of CloudSim's PlanetLab setup (W at 0, 10, …, 100 %). */
export const HP_PROLIANT_G4 = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117] as const;
export const HP_PROLIANT_G5 = [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135] as const;

/** CloudSim's VM types (MIPS, MB), assigned by index block. */
const VM_TYPES = [
  { mips: 2500, ramMb: 870 },
  { mips: 2000, ramMb: 1740 },
  { mips: 1000, ramMb: 1740 },
  { mips: 500, ramMb: 613 },
] as const;

/**
 * The setup behind Beloglazov & Buyya's PlanetLab results (CloudSim 3.0.3 examples): 800 hosts,
 * host type = id % 2 (HP ProLiant ML110 G4 2×1860 MIPS / G5 2×2660 MIPS, 4096 MB, 1 Gbit/s),
 * one single-core VM per trace file, VM i of N gets type ⌊i / ⌈N/4⌉⌋, 300 s interval, one day.
 */
export function planetLabWorkload(day: PlanetLabDay, hostCount = 800, cloudsimArtefacts = true): SimWorkload {
  const hosts: SimHostSpec[] = Array.from({ length: hostCount }, (_, i) => ({
    id: `host-${i}`,
    cores: 2,
    mipsPerCore: i % 2 === 0 ? 1860 : 2660,
    ramMb: 4096,
    bwKbps: 1_000_000,
    powerWatts: i % 2 === 0 ? HP_PROLIANT_G4 : HP_PROLIANT_G5,
  }));
  const per = Math.ceil(day.vms.length / VM_TYPES.length);
  const vms: SimVmSpec[] = day.vms.map((vm, i) => {
    const type = VM_TYPES[Math.floor(i / per)]!;
    return { id: `vm-${i}`, mips: type.mips, ramMb: type.ramMb, bwKbps: 100_000, cpuPct: vm.cpuPct };
  });
  return {
    name: `planetlab-${day.day}`,
    stepSec: 300,
    durationSec: 86_400,
    hosts,
    vms,
    initialPlacement: "pabfd",
    removeIdleVms: cloudsimArtefacts,
    cloudsimStaleMigratingOut: cloudsimArtefacts,
  };
}

/** A generic linear power model for hosts that publish none (only used for energy figures). */
export function linearPower(idleW: number, maxW: number): number[] {
  return Array.from({ length: 11 }, (_, i) => idleW + ((maxW - idleW) * i) / 10);
}

export interface LiveClusterOptions {
  nodes: number;
  coresPerNode: number;
  /** Containers replayed from the day's first trace files. */
  containers: number;
  /** Memory sizes cycled over containers, MB (drive migration time). */
  containerMemMb: readonly number[];
  /** Effective migration bandwidth, MB/s (Docker checkpoint + rsync + restore path). */
  transferMBps: number;
}

/**
 * Herd's live-cluster defaults: a handful of 4-core nodes (1000 millicores per core), one-core
 * containers replaying PlanetLab CPU traces, spread round-robin at start, migrations at the
 * measured Docker checkpoint/restore rate (512 MB in ≈25 s ⇒ ≈20 MB/s).
 */
export const LIVE_CLUSTER_DEFAULTS: LiveClusterOptions = {
  nodes: 8,
  coresPerNode: 4,
  containers: 160,
  containerMemMb: [256, 512, 1024, 512],
  transferMBps: 20,
};

export function liveClusterWorkload(day: PlanetLabDay, o: LiveClusterOptions = LIVE_CLUSTER_DEFAULTS): SimWorkload {
  const hosts: SimHostSpec[] = Array.from({ length: o.nodes }, (_, i) => ({
    id: `node-${i}`,
    cores: o.coresPerNode,
    mipsPerCore: 1000,
    ramMb: 16_384,
    bwKbps: 10_000_000,
    powerWatts: linearPower(60, 180),
  }));
  const vms: SimVmSpec[] = day.vms.slice(0, o.containers).map((vm, i) => ({
    id: `ctr-${i}`,
    mips: 1000,
    ramMb: o.containerMemMb[i % o.containerMemMb.length]!,
    bwKbps: 0,
    cpuPct: vm.cpuPct,
  }));
  return { name: `live-cluster-${day.day}`, stepSec: 300, durationSec: 86_400, hosts, vms, initialPlacement: "round-robin" };
}

export interface AlibabaOptions {
  hosts: number;
  coresPerHost: number;
  mipsPerCore: number;
  ramMb: number;
  /** Each machine becomes a one-core container of this memory size. */
  containerMemMb: number;
  stepSec: number;
  days: number;
}

export const ALIBABA_DEFAULTS: AlibabaOptions = { hosts: 4, coresPerHost: 4, mipsPerCore: 1000, ramMb: 65_536, containerMemMb: 2048, stepSec: 300, days: 2 };

/**
 * Alibaba 2018 machines replayed as containers: each machine's CPU and memory (resampled to the
 * step) drive one container on configurable hosts. Samples missing at a step count as idle.
 */
export function alibabaWorkload(machines: readonly AlibabaMachine[], o: AlibabaOptions = ALIBABA_DEFAULTS): SimWorkload {
  const steps = Math.round((o.days * 86_400) / o.stepSec) + 1;
  const hosts: SimHostSpec[] = Array.from({ length: o.hosts }, (_, i) => ({
    id: `host-${i}`,
    cores: o.coresPerHost,
    mipsPerCore: o.mipsPerCore,
    ramMb: o.ramMb,
    bwKbps: 10_000_000,
    powerWatts: linearPower(60, 180),
  }));
  const vms: SimVmSpec[] = machines.map((m) => {
    const cpu = new Float64Array(steps);
    const mem = new Float64Array(steps);
    for (let i = 0; i < m.t.length; i++) {
      const k = Math.round(m.t[i]! / o.stepSec);
      if (k < 0 || k >= steps) continue;
      cpu[k] = m.cpuPct[i]!;
      mem[k] = m.memPct[i]!;
    }
    return { id: m.machineId, mips: o.mipsPerCore, ramMb: o.containerMemMb, bwKbps: 0, cpuPct: cpu, memPct: mem };
  });
  return { name: `alibaba-${machines.length}m`, stepSec: o.stepSec, durationSec: o.days * 86_400, hosts, vms, initialPlacement: "round-robin" };
}
