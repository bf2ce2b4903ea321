import { z } from "zod";
import { NodeId } from "./common.js";

export const TELEMETRY_VERSION = 1 as const;

const nonNeg = z.number().finite().nonnegative();

/** One container's sample. Counters are cumulative since the container started; rates are per second over the last interval. */
export const ContainerSample = z.object({
  id: z.string().regex(/^[0-9a-f]{12,64}$/, "must be a hex container id"),
  name: z.string().min(1),
  image: z.string(),
  state: z.enum(["created", "running", "paused", "restarting", "removing", "exited", "dead"]),
  labels: z.record(z.string(), z.string()).default({}),
  /** CPU use as a percentage of one core (200 = two cores busy). */
  cpuPct: nonNeg,
  cpuUsageNs: nonNeg,
  memBytes: nonNeg,
  memLimitBytes: nonNeg.nullable(),
  blkReadBytes: nonNeg,
  blkWriteBytes: nonNeg,
  blkReadBps: nonNeg,
  blkWriteBps: nonNeg,
  netRxBytes: nonNeg,
  netTxBytes: nonNeg,
  netRxBps: nonNeg,
  netTxBps: nonNeg,
  pids: nonNeg,
  /** The main process's exit code once the container has exited (optional: older agents omit it). */
  exitCode: z.number().int().optional(),
  /** Address on the cluster network, when the container is on it. */
  address: z.string().optional(),
});
export type ContainerSample = z.infer<typeof ContainerSample>;

export const NodeSample = z.object({
  cpuCores: z.number().int().positive(),
  /** Whole-node CPU busy, percentage of all cores (0–100). */
  cpuPct: nonNeg,
  memTotalBytes: nonNeg,
  memUsedBytes: nonNeg,
  /** Node's address on the cluster network, used for transfers. */
  address: z.string().optional(),
});
export type NodeSample = z.infer<typeof NodeSample>;

/** One batched message per node per interval, on the telemetry exchange with key `node.<id>`. */
export const TelemetryBatch = z.object({
  v: z.literal(TELEMETRY_VERSION),
  kind: z.literal("telemetry"),
  nodeId: NodeId,
  seq: z.number().int().nonnegative(),
  sentAt: z.number().int().positive(),
  intervalMs: z.number().int().positive(),
  node: NodeSample,
  containers: z.array(ContainerSample),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatch>;

/** The usage part of a sample for a container that is not running (or not yet measured). */
export const ZERO_CONTAINER_USAGE = {
  cpuPct: 0,
  cpuUsageNs: 0,
  memBytes: 0,
  blkReadBytes: 0,
  blkWriteBytes: 0,
  blkReadBps: 0,
  blkWriteBps: 0,
  netRxBytes: 0,
  netTxBytes: 0,
  netRxBps: 0,
  netTxBps: 0,
  pids: 0,
} as const satisfies Partial<ContainerSample>;
