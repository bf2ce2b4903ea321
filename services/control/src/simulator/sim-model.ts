import type { ForecasterName } from "../forecast/forecaster.js";
import type { MoveBudget } from "../placement/move-planner.js";

/** A simulated host. CPU in MIPS (any unit works as long as VMs use the same). */
export interface SimHostSpec {
  readonly id: string;
  readonly cores: number;
  readonly mipsPerCore: number;
  readonly ramMb: number;
  /** Network in kbit/s; only limits initial placement (CloudSim semantics). */
  readonly bwKbps: number;
  /** Watts at 0, 10, …, 100 % CPU. */
  readonly powerWatts: readonly number[];
}

/** A simulated VM / container and its trace. */
export interface SimVmSpec {
  readonly id: string;
  /** Capacity of its single core: demand = cpu% × mips. */
  readonly mips: number;
  /** Memory size, drives migration time (RAM / bandwidth). */
  readonly ramMb: number;
  readonly bwKbps: number;
  /** CPU utilization in percent of `mips`, one sample per workload step. */
  readonly cpuPct: ArrayLike<number>;
  /** Memory in use, percent of `ramMb`; absent = no memory demand (CloudSim's PlanetLab setup). */
  readonly memPct?: ArrayLike<number>;
}

export interface SimWorkload {
  readonly name: string;
  /** Seconds between two trace samples (and between two planning rounds). */
  readonly stepSec: number;
  readonly durationSec: number;
  readonly hosts: readonly SimHostSpec[];
  readonly vms: readonly SimVmSpec[];
  /** "pabfd" (CloudSim: power-aware best fit at full size, default) or "round-robin" (spread). */
  readonly initialPlacement?: "pabfd" | "round-robin";
  /**
   * CloudSim's PowerDatacenter deallocates for good every VM whose request is exactly 0 at an
   * update (it takes the cloudlet for finished). True reproduces CloudSim; false keeps them.
   */
  readonly removeIdleVms?: boolean;
  /**
   * CloudSim 3.0.3's VmScheduler never forgets a VM that migrated out of a host until the VM is
   * allocated there again outside a migration; if it migrates back in, the scheduler's "migrating
   * out" branch wins and the incoming copy gets 90 % of its request instead of 10 %. True
   * reproduces CloudSim (hosts look busier while such a VM arrives); false is the intended model.
   */
  readonly cloudsimStaleMigratingOut?: boolean;
}

export interface SimPolicySpec {
  /** Plugin name (see placement/policy-registry). */
  readonly name: string;
  readonly args?: unknown;
  /** Name in reports, e.g. "LR-MMT-1.2". */
  readonly label?: string;
}

export interface SimConfig {
  readonly workload: SimWorkload;
  readonly policy: SimPolicySpec;
  /** Budgets of the move planner; default: unlimited (as in the published studies). */
  readonly budget?: MoveBudget;
  /** Migration bandwidth in MB/s (CloudSim: half of 1 Gbit/s = 62.5). */
  readonly transferMBps?: number;
  /** Fraction of a migrating VM's CPU lost on the source (CloudSim: 0.1). */
  readonly degradation?: number;
  /** Samples of per-container history handed to policies (CloudSim: 30). */
  readonly historyLength?: number;
  /** Forecaster that fills `forecast.cpu` in snapshots; default: only for the forecast policy, "ewma". */
  readonly forecaster?: ForecasterName | "none";
  /** Forecast steps computed per container. */
  readonly forecastHorizon?: number;
  /** Extra models whose one-step error is measured for the report (never used for decisions). */
  readonly compareForecasters?: readonly ForecasterName[];
  /** First planning round at this offset (CloudSim's rounds run at 300.1, 600.1, … s). */
  readonly startOffsetSec?: number;
}

export interface ForecastErrorSummary {
  readonly model: string;
  /** Errors in percentage points of the container's CPU size, one step ahead. */
  readonly mae: number;
  readonly rmse: number;
  readonly samples: number;
  readonly usedForDecisions: boolean;
}

export interface SimResult {
  readonly workload: string;
  readonly policy: string;
  readonly hosts: number;
  readonly vms: number;
  readonly unplacedVms: number;
  /** VMs dropped because their request hit 0 (only with `removeIdleVms`). */
  readonly removedIdleVms: number;
  readonly energyKWh: number;
  readonly migrations: number;
  /** SLA violation time per active host (fraction). */
  readonly slatah: number;
  /** Performance degradation due to migrations (fraction). */
  readonly pdm: number;
  readonly slav: number;
  readonly esv: number;
  /**
   * Under-delivered CPU: fraction of all requested CPU not allocated, whatever the cause
   * (overloaded hosts, migrations, a request above one core). SLAV = SLATAH × PDM does not see
   * CPU withheld outside migrations on hosts that are rarely overloaded; this does.
   */
  readonly overallUnderAllocation: number;
  /** Share of VM-time (VM-seconds) during which a VM got less CPU than it asked for. */
  readonly unmetVmTimeShare: number;
  /** Host-seconds during which some host got less CPU than requested. */
  readonly overloadHostSeconds: number;
  readonly activeHostSeconds: number;
  /** Per planning round: simulated time (s), active hosts, migrations started. */
  readonly timeline: { readonly t: number[]; readonly activeHosts: number[]; readonly migrations: number[] };
  readonly forecastErrors: readonly ForecastErrorSummary[];
  readonly rejectedMoves: number;
  readonly planningMsMean: number;
  readonly planningMsMax: number;
  readonly wallMs: number;
}
