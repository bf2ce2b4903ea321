/**
 * Herd's own view of the cluster at one instant, the only input of a placement policy. Live, it is
 * built from telemetry and the registry; in the simulator, from the simulated hosts. CPU is in
 * "cpu units" (millicores live, MIPS in the simulator): capacity and demand always share the unit.
 */

export interface NodeSnapshot {
  readonly id: string;
  /** A down node is never a source or a destination of a move. */
  readonly up: boolean;
  readonly capacity: {
    readonly cpu: number;
    /** One core's capacity: a single container can never get more than this. */
    readonly cpuPerCore: number;
    readonly memoryBytes: number;
    /** Network capacity in bytes/s; 0 = unknown (network then never counts as a hotspot). */
    readonly netBps: number;
  };
  /** What the node measured at the last sample (may lag behind the containers' demand). */
  readonly usage: { readonly cpu: number; readonly memoryBytes: number; readonly netBps: number };
  /** Watts at 0, 10, …, 100 % CPU (11 values), linear in between; absent = unknown. */
  readonly powerWatts?: readonly number[];
}

export interface ContainerSnapshot {
  readonly id: string;
  readonly nodeId: string;
  /** Observed demand now (what it asks for, not what it got). */
  readonly demand: { readonly cpu: number; readonly memoryBytes: number; readonly netBps: number };
  /** Past CPU demand samples, oldest first; the last value is the current sample. */
  readonly history?: { readonly cpu: readonly number[] };
  /** Forecast CPU demand for the next intervals (index 0 = one interval ahead). */
  readonly forecast?: { readonly cpu?: readonly number[]; readonly memoryBytes?: readonly number[] };
  /** Bytes to copy when migrating (memory + writable layer); drives the migration cost. */
  readonly memorySizeBytes: number;
  /** Epoch ms of the end of its last migration; absent = never moved. */
  readonly lastMigratedAt?: number;
}

export interface MigrationInFlight {
  readonly containerId: string;
  readonly from: string;
  readonly to: string;
  readonly startedAt: number;
}

export interface ClusterSnapshot {
  /** Epoch ms (simulated time in the simulator). */
  readonly now: number;
  /** Seconds between two planning rounds (also the sample interval of histories and forecasts). */
  readonly intervalSec: number;
  readonly nodes: readonly NodeSnapshot[];
  /** Grouped by node in the node's own order; a migrating container is listed on its source. */
  readonly containers: readonly ContainerSnapshot[];
  readonly migrations: readonly MigrationInFlight[];
  /** Measured migration transfer rate, bytes/s. */
  readonly transferRateBps: number;
}

/** A move a policy proposes; the move planner decides whether it may start. */
export interface ProposedMove {
  readonly containerId: string;
  readonly from: string;
  readonly to: string;
  /** Human-readable why, shown by `herd plan` and logged with the migration. */
  readonly reason: string;
  /**
   * CloudSim 3.0.3 compatibility only (consolidation's `cloudsimDoubleMoves`): the node this
   * container was first placed on in the same round before that node was drained in turn.
   * CloudSim starts both migrations (both counted; both destinations carry the incoming copy until
   * they end) and the container ends on `to`. The simulator honours it; live Herd never sets it.
   */
  readonly via?: string;
}
