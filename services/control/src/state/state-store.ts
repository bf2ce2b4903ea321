import type { ContainerSample, Heartbeat, TelemetryBatch } from "../../../../shared/src/contracts/index.js";

export interface NodeRecord {
  id: string;
  address?: string;
  agentVersion?: string;
  startedAt?: number;
  lastHeartbeatAt?: number;
  lastTelemetryAt?: number;
  cpuCores?: number;
  cpuPct?: number;
  memTotalBytes?: number;
  memUsedBytes?: number;
  /** What the agent offers for reservations (heartbeat); absent from agents that do not report it. */
  capacityCpus?: number;
  capacityMemoryBytes?: number;
  /** Memory pre-copy (CRIU dirty-page tracking) possible on this node, and CRIU's words; from the heartbeat. */
  memoryPreCopy?: { available: boolean; detail: string };
  /** Post-copy (CRIU lazy pages) possible on this node, or why not; from the heartbeat. */
  postCopy?: { available: boolean; detail: string };
  containers: number;
}

export interface ContainerRecord extends ContainerSample {
  nodeId: string;
  updatedAt: number;
}

/** One point of a container's history (rates per second, memory in bytes). */
export interface MetricPoint {
  t: number;
  cpuPct: number;
  memBytes: number;
  blkReadBps: number;
  blkWriteBps: number;
  netRxBps: number;
  netTxBps: number;
}

/** One point of a container's planning series: mean CPU % over the planning interval starting at t. */
export interface PlanPoint {
  t: number;
  cpuPct: number;
}

export interface NodeMetricPoint {
  t: number;
  cpuPct: number;
  memUsedBytes: number;
}

/**
 * The control service's state. Contract: what is recorded is readable by every later call and
 * by a restarted control service; histories keep the newest `historyLength` points, newest last
 * when read; a node's container list is replaced by each telemetry batch from that node.
 */
export interface StateStore {
  recordTelemetry(batch: TelemetryBatch): Promise<void>;
  recordHeartbeat(hb: Heartbeat): Promise<void>;
  listNodes(): Promise<NodeRecord[]>;
  getNode(id: string): Promise<NodeRecord | undefined>;
  listContainers(): Promise<ContainerRecord[]>;
  /** By full id, unique id prefix (≥ 4 chars) or name. */
  findContainer(ref: string): Promise<ContainerRecord | undefined>;
  containerHistory(id: string, limit: number): Promise<MetricPoint[]>;
  nodeHistory(id: string, limit: number): Promise<NodeMetricPoint[]>;
  /** Planning series (mean CPU % per planning interval, finished intervals only, oldest first) of each id. */
  cpuPlanSeries(ids: readonly string[]): Promise<Map<string, PlanPoint[]>>;
  /** The planning interval in progress on these nodes: container id → mean so far. */
  cpuPlanCurrent(nodeIds: readonly string[]): Promise<Map<string, PlanPoint>>;
  /** The planning interval (ms) of those series. */
  readonly planIntervalMs: number;
  close(): Promise<void>;
}
