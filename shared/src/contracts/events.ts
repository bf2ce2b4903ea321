import { z } from "zod";
import { NodeId, WireErrorSchema } from "./common.js";

export const EVENT_VERSION = 1 as const;

export const Heartbeat = z.object({
  v: z.literal(EVENT_VERSION),
  kind: z.literal("heartbeat"),
  nodeId: NodeId,
  sentAt: z.number().int().positive(),
  startedAt: z.number().int().positive(),
  agentVersion: z.string(),
  address: z.string().optional(),
  containers: z.number().int().nonnegative(),
  /** What the node offers for reservations (jobs). Optional: agents before it still validate. */
  capacity: z.object({ cpus: z.number().positive().max(4096), memoryBytes: z.number().int().positive() }).optional(),
  /**
   * Whether CRIU can track dirty memory here (`criu check --feature mem_dirty_track`), i.e. whether
   * memory pre-copy is possible; `detail` is CRIU's own words. Optional: older agents omit it.
   */
  memoryPreCopy: z.object({ available: z.boolean(), detail: z.string().max(500) }).optional(),
  /**
   * Whether post-copy migration (CRIU lazy pages restored through Docker) can work here: CRIU's
   * uffd-noncoop check, fs.pipe-max-size for CRIU's page server, and Herd's runc wrapper; `detail`
   * says which is missing. Optional: older agents omit it.
   */
  postCopy: z.object({ available: z.boolean(), detail: z.string().max(500) }).optional(),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

/** The outcome of one command, published by the agent that handled it (key `node.<id>.result`). */
export const CommandResult = z.object({
  v: z.literal(EVENT_VERSION),
  kind: z.literal("command.result"),
  nodeId: NodeId,
  commandId: z.string().min(1),
  commandType: z.string(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: WireErrorSchema.optional(),
  /** When the handler started and finished, on the agent's clock. */
  startedAt: z.number().int().positive().optional(),
  finishedAt: z.number().int().positive(),
});
export type CommandResult = z.infer<typeof CommandResult>;

/** Progress of a long command (bytes moved, step), key `node.<id>.progress`. Lossy. */
export const CommandProgress = z.object({
  v: z.literal(EVENT_VERSION),
  kind: z.literal("command.progress"),
  nodeId: NodeId,
  commandId: z.string().min(1),
  step: z.string(),
  bytes: z.number().nonnegative().optional(),
  totalBytes: z.number().nonnegative().optional(),
  message: z.string().optional(),
  at: z.number().int().positive(),
});
export type CommandProgress = z.infer<typeof CommandProgress>;

export const ContainerEvent = z.object({
  v: z.literal(EVENT_VERSION),
  kind: z.literal("container"),
  nodeId: NodeId,
  containerId: z.string(),
  name: z.string(),
  action: z.enum(["start", "die", "destroy", "create"]),
  exitCode: z.number().int().optional(),
  at: z.number().int().positive(),
});
export type ContainerEvent = z.infer<typeof ContainerEvent>;

export const HerdEvent = z.discriminatedUnion("kind", [Heartbeat, CommandResult, CommandProgress, ContainerEvent]);
export type HerdEvent = z.infer<typeof HerdEvent>;
