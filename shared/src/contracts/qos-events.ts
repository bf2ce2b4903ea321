import { z } from "zod";
import { NodeId } from "./common.js";

/**
 * Node QoS events (CONtrol's PID guard, ResCoin's fair share), published by each agent on
 * `herd.events` with key `node.<id>.qos`. Kept apart from HerdEvent: the control service routes
 * `*.qos` keys to its QoS handler before the generic event ingest.
 */
export const QOS_EVENT_VERSION = 1 as const;
export const qosRoutingKey = (nodeId: string) => `node.${nodeId}.qos`;

export const QosControllerName = z.enum(["pid-guard", "fair-share"]);
export type QosControllerName = z.infer<typeof QosControllerName>;

/** The limits Herd holds on one container (absent: not limited on that resource). */
export const QosLimits = z.object({
  rateKbit: z.number().nonnegative().optional(),
  iface: z.string().optional(),
  cpuMillicores: z.number().nonnegative().optional(),
  memorySoftBytes: z.number().nonnegative().optional(),
  writeBps: z.number().nonnegative().optional(),
  device: z.string().optional(),
});
export type QosLimits = z.infer<typeof QosLimits>;

/** One actuation: a tc rate or cgroup files written, or removed. */
export const QosActuation = z.object({
  v: z.literal(QOS_EVENT_VERSION),
  kind: z.literal("qos.actuation"),
  nodeId: NodeId,
  containerId: z.string().min(1),
  containerName: z.string(),
  controller: QosControllerName.or(z.literal("cleanup")),
  actuator: z.enum(["tc", "cgroup"]),
  action: z.enum(["set", "clear"]),
  limits: QosLimits,
  writes: z.array(z.object({ file: z.string(), value: z.string() })).optional(),
  reason: z.string(),
  at: z.number().int().positive(),
});
export type QosActuation = z.infer<typeof QosActuation>;

export const QosContainerStatus = z.object({
  id: z.string().min(1),
  name: z.string(),
  controller: QosControllerName,
  qosClass: z.enum(["network", "storage", "fair"]),
  targetMs: z.number().positive().optional(),
  measuredMs: z.number().nonnegative().optional(),
  output: z.number().optional(),
  saturatedRounds: z.number().int().nonnegative().optional(),
  demand: z.number().nonnegative().optional(),
  allocation: z.number().nonnegative().optional(),
  credits: z.number().optional(),
  limits: QosLimits,
  error: z.string().optional(),
});
export type QosContainerStatus = z.infer<typeof QosContainerStatus>;

/** Every controlled container of a node, once per control period. Lossy. */
export const QosStatus = z.object({
  v: z.literal(QOS_EVENT_VERSION),
  kind: z.literal("qos.status"),
  nodeId: NodeId,
  enabled: z.boolean(),
  periodMs: z.number().int().positive(),
  containers: z.array(QosContainerStatus),
  at: z.number().int().positive(),
});
export type QosStatus = z.infer<typeof QosStatus>;

/** The PID guard stayed saturated: move `container` off this node. */
export const QosMigrationRequest = z.object({
  v: z.literal(QOS_EVENT_VERSION),
  kind: z.literal("qos.migration-request"),
  nodeId: NodeId,
  container: z.string().min(1),
  reason: z.string().min(1),
  at: z.number().int().positive(),
});
export type QosMigrationRequest = z.infer<typeof QosMigrationRequest>;

export const QosEvent = z.discriminatedUnion("kind", [QosActuation, QosStatus, QosMigrationRequest]);
export type QosEvent = z.infer<typeof QosEvent>;
