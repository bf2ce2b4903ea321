import { z } from "zod";
import { ContainerSpec } from "./container-spec.js";

/**
 * The live-migration saga's wire protocol: for every step, the command type the control
 * service sends, its payload and the result the agent answers with. Both sides validate with
 * these schemas (control before sending and on receipt, the agent on receipt and before it
 * answers), so neither side casts.
 *
 * Times named `…At` are epoch milliseconds on the clock of the agent that did the work: the
 * frozen time of a migration is measured where it happens (dump start on the source → process
 * running on the destination), not when the control service hears of it.
 */

export const MigrationId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 of [A-Za-z0-9_.-]");

/** Where the destination receives files: its transfer daemon. */
export const PeerWire = z.object({ address: z.string().min(1), port: z.number().int().min(1).max(65535) });
export type PeerWire = z.infer<typeof PeerWire>;

export const SyncReport = z.object({
  bytes: z.number().nonnegative(),
  files: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type SyncReport = z.infer<typeof SyncReport>;

const Step = z.object({ migrationId: MigrationId });
const ContainerId = z.string().min(1);

export const migrationProtocol = {
  /** Source: inspect the container and refuse what cannot move. */
  "migration.describe": { payload: Step.extend({ container: z.string().min(1) }), result: ContainerSpec },
  /** Destination: create (not start) the container from the source's spec, or say the image is missing. */
  "migration.prepare": {
    payload: Step.extend({ spec: ContainerSpec }),
    result: z.discriminatedUnion("needsImage", [
      z.object({ needsImage: z.literal(false), containerId: ContainerId }),
      z.object({ needsImage: z.literal(true) }),
    ]),
  },
  /** Source: send the image archive to the destination's shared image area. */
  "migration.ship-image": { payload: Step.extend({ spec: ContainerSpec, peer: PeerWire }), result: SyncReport },
  /** Source: sync the writable layer and volumes while the container runs. */
  "migration.precopy": { payload: Step.extend({ spec: ContainerSpec, peer: PeerWire }), result: SyncReport },
  /** Source: CRIU dump (the container stops), then the final sync of deltas and images. */
  "migration.freeze": {
    payload: Step.extend({ spec: ContainerSpec, peer: PeerWire }),
    result: z.object({
      checkpointName: z.string().min(1),
      checkpointBytes: z.number().nonnegative(),
      checkpointMs: z.number().nonnegative(),
      /** When the dump started: the container's last moment of running on the source. */
      frozenAt: z.number().int().positive(),
      finalSync: SyncReport,
    }),
  },
  /** Destination: install the staged files and start from the checkpoint. */
  "migration.restore": {
    payload: Step.extend({ spec: ContainerSpec, containerId: ContainerId, checkpointName: z.string().min(1) }),
    result: z.object({
      installMs: z.number().nonnegative(),
      restoreMs: z.number().nonnegative(),
      /** When the engine first reported the restored process running. */
      runningAt: z.number().int().positive(),
      /** True when this answers a restore that had already happened. */
      already: z.boolean(),
    }),
  },
  /** Destination: the restored copy still runs a moment later and its engine answers. */
  "migration.verify": {
    payload: Step.extend({ containerId: ContainerId, settleMs: z.number().int().min(0).max(60_000).default(1_000) }),
    result: z.object({
      running: z.literal(true),
      pid: z.number().int(),
      /** When the engine started the copy (this node's clock), when it knows. */
      runningSince: z.number().int().positive().optional(),
    }),
  },
  /** Destination: checked again, the real restart policy applied, staging cleaned. */
  "migration.finish-destination": {
    payload: Step.extend({ spec: ContainerSpec, containerId: ContainerId }),
    result: z.object({ containerId: ContainerId }),
  },
  /** Source (commit): the source container and its checkpoint go. */
  "migration.remove-source": { payload: Step.extend({ spec: ContainerSpec }), result: z.object({ removed: ContainerId }) },
  /** Destination (rollback): the copy and the staging area go; refused while the engine does not answer. */
  "migration.abort-destination": {
    payload: Step.extend({ containerId: ContainerId.optional() }),
    result: z.object({ removed: z.array(z.string()) }),
  },
  /** Source (rollback): the container runs again, from its checkpoint when it was frozen. */
  "migration.resume-source": {
    payload: Step.extend({ spec: ContainerSpec, frozen: z.boolean() }),
    result: z.object({
      resumed: z.boolean(),
      running: z.literal(true),
      /** The checkpoint it resumed from; null when started fresh (memory state lost) or already running. */
      fromCheckpoint: z.string().nullable(),
    }),
  },
} as const;

export type MigrationCommandType = keyof typeof migrationProtocol;
