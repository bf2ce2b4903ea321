import { z } from "zod";
import { NodeId } from "./common.js";
import { NetworkChoice } from "./cluster-network.js";
import { migrationProtocol } from "./migration-protocol.js";

export const COMMAND_VERSION = 1 as const;

/** Start a new container from a local image. */
export const ContainerRunPayload = z.object({
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, "must be a valid container name"),
  image: z.string().min(1),
  cmd: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  labels: z.record(z.string(), z.string()).default({}),
  memoryBytes: z.number().int().positive().optional(),
  cpus: z.number().positive().max(64).optional(),
  /** "cluster": on the cluster network at `ipv4Address` (claimed by control); "none" or absent: no network. */
  network: NetworkChoice.optional(),
  /** Required with network "cluster" (the agent refuses the command without it). */
  ipv4Address: z.ipv4().optional(),
});
export type ContainerRunPayload = z.infer<typeof ContainerRunPayload>;

export const ContainerRefPayload = z.object({
  container: z.string().min(1),
  force: z.boolean().default(false),
});

/**
 * Every command type with its payload and result schemas. A command's handler must be
 * idempotent: the same command id may be delivered again after a crash or a broker restart.
 */
export const commandProtocol = {
  ping: { payload: z.object({}).default({}), result: z.object({ pong: z.literal(true) }) },
  "container.run": {
    payload: ContainerRunPayload,
    result: z.object({ id: z.string().min(1), created: z.boolean() }).loose(),
  },
  "container.stop": { payload: ContainerRefPayload, result: z.object({ stopped: z.literal(true), already: z.boolean().optional() }).loose() },
  "container.remove": { payload: ContainerRefPayload, result: z.object({ removed: z.literal(true), already: z.boolean().optional() }).loose() },
  // Live migration (see services/control/src/migration): source and destination halves.
  ...migrationProtocol,
} as const;

type Protocol = typeof commandProtocol;
/** Payload schemas by command type (what the agent validates on receipt). */
export const commandPayloads = Object.fromEntries(Object.entries(commandProtocol).map(([k, v]) => [k, v.payload])) as {
  [T in keyof Protocol]: Protocol[T]["payload"];
};
/** Result schemas by command type (what the agent checks before answering, and control on receipt). */
export const commandResults = Object.fromEntries(Object.entries(commandProtocol).map(([k, v]) => [k, v.result])) as {
  [T in keyof Protocol]: Protocol[T]["result"];
};

export type CommandType = keyof Protocol;
export type CommandPayload<T extends CommandType> = z.infer<Protocol[T]["payload"]>;
/** What a successful command of type T answers with. */
export type CommandResultValue<T extends CommandType> = z.infer<Protocol[T]["result"]>;

export const commandTypes = Object.keys(commandProtocol) as [CommandType, ...CommandType[]];

/** The envelope on a node's durable command queue. `payload` is validated against its type's schema. */
export const CommandEnvelope = z.object({
  v: z.literal(COMMAND_VERSION),
  id: z.string().min(8).max(128),
  type: z.enum(commandTypes),
  nodeId: NodeId,
  issuedAt: z.number().int().positive(),
  /** How long the node may work on it from when it starts; the agent aborts the work after that. */
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
  payload: z.unknown(),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

export interface Command<T extends CommandType = CommandType> {
  v: typeof COMMAND_VERSION;
  id: string;
  type: T;
  nodeId: string;
  issuedAt: number;
  timeoutMs?: number;
  payload: CommandPayload<T>;
}
