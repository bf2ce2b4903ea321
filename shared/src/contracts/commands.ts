import { z } from "zod";
import { NodeId } from "./common.js";

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
});
export type ContainerRunPayload = z.infer<typeof ContainerRunPayload>;

export const ContainerRefPayload = z.object({
  container: z.string().min(1),
  force: z.boolean().default(false),
});

const MigrationId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 of [A-Za-z0-9_.-]");

/** A container's full configuration as the source agent inspected it (the runtime's ContainerSpec). */
export const ContainerSpecWire = z
  .object({ id: z.string().min(1), name: z.string().min(1), image: z.string().min(1), imageId: z.string().min(1) })
  .passthrough();

/** Where the destination receives files: its transfer daemon. */
export const PeerWire = z.object({ address: z.string().min(1), port: z.number().int().min(1).max(65535) });

const MigrationStep = z.object({ migrationId: MigrationId });

/**
 * Every command type and its payload schema. A command's handler must be idempotent: the same
 * command id may be delivered again after a crash or a broker restart.
 */
export const commandPayloads = {
  ping: z.object({}).default({}),
  "container.run": ContainerRunPayload,
  "container.stop": ContainerRefPayload,
  "container.remove": ContainerRefPayload,
  // Live migration (see services/control/src/migration): source and destination halves.
  "migration.describe": MigrationStep.extend({ container: z.string().min(1) }),
  "migration.prepare": MigrationStep.extend({ spec: ContainerSpecWire }),
  "migration.ship-image": MigrationStep.extend({ spec: ContainerSpecWire, peer: PeerWire }),
  "migration.precopy": MigrationStep.extend({ spec: ContainerSpecWire, peer: PeerWire }),
  "migration.freeze": MigrationStep.extend({ spec: ContainerSpecWire, peer: PeerWire }),
  "migration.restore": MigrationStep.extend({ spec: ContainerSpecWire, containerId: z.string().min(1), checkpointName: z.string().min(1) }),
  "migration.verify": MigrationStep.extend({ containerId: z.string().min(1), settleMs: z.number().int().min(0).max(60_000).default(1_000) }),
  "migration.finish-destination": MigrationStep.extend({ spec: ContainerSpecWire, containerId: z.string().min(1) }),
  "migration.remove-source": MigrationStep.extend({ spec: ContainerSpecWire }),
  "migration.abort-destination": MigrationStep.extend({ containerId: z.string().min(1).optional() }),
  "migration.resume-source": MigrationStep.extend({ spec: ContainerSpecWire, frozen: z.boolean() }),
} as const;

export type CommandType = keyof typeof commandPayloads;
export type CommandPayload<T extends CommandType> = z.infer<(typeof commandPayloads)[T]>;

export const commandTypes = Object.keys(commandPayloads) as [CommandType, ...CommandType[]];

/** The envelope on a node's durable command queue. `payload` is validated against its type's schema. */
export const CommandEnvelope = z.object({
  v: z.literal(COMMAND_VERSION),
  id: z.string().min(8).max(128),
  type: z.enum(commandTypes),
  nodeId: NodeId,
  issuedAt: z.number().int().positive(),
  payload: z.unknown(),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

export interface Command<T extends CommandType = CommandType> {
  v: typeof COMMAND_VERSION;
  id: string;
  type: T;
  nodeId: string;
  issuedAt: number;
  payload: CommandPayload<T>;
}
