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

/**
 * How memory moves. stop-and-copy: dumped whole while the container is frozen. post-copy: the
 * container is dumped without its memory and runs on the destination at once, faulting its pages
 * in from the source's CRIU page server (CRIU lazy pages) until it has them all.
 */
export const MigrationMode = z.enum(["stop-and-copy", "post-copy"]);
export type MigrationMode = z.infer<typeof MigrationMode>;

/** The warning every post-copy migration carries (also in `herd migrate --help`). */
export const POST_COPY_RISK =
  "post-copy: the container runs on the destination before its memory has arrived; until every page is there its memory is split between the two nodes. " +
  "If the page transfer breaks off (the source node or its page server dies, the network fails), the destination copy is killed at once (it would read zero-filled pages), " +
  "and the migration rolls back to the source if the source still holds the frozen container; if the source node itself is gone, the container's state is lost.";

/** Post-copy: where the source's page server listens (its cluster address) and how long it may serve. */
export const PageServerWire = z.object({
  address: z.string().min(1),
  port: z.number().int().min(1024).max(65535),
  /** The page transfer ends (done or killed) within this long: the migration's bound. */
  timeoutMs: z.number().int().min(1_000).max(3_600_000),
});
export type PageServerWire = z.infer<typeof PageServerWire>;
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
    payload: Step.extend({ spec: ContainerSpec, peer: PeerWire, mode: MigrationMode.optional(), pageServer: PageServerWire.optional() }),
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
    /** With `pageServer`: a post-copy restore, pulling the memory from there while the copy runs. */
    payload: Step.extend({ spec: ContainerSpec, containerId: ContainerId, checkpointName: z.string().min(1), pageServer: PageServerWire.optional() }),
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
  /**
   * Destination, post-copy only: waits until the restored copy has every page (progress: pages
   * left). Fails when the transfer broke off; the copy has then been killed (its memory is
   * incomplete). Its success is the moment the source is released.
   */
  "migration.pages": {
    payload: Step.extend({ containerId: ContainerId }),
    /** `bytes`: the memory pulled (pages × 4 KiB), counted in the migration's moved bytes. */
    result: z.object({ pages: z.number().int().nonnegative(), pulledMs: z.number().nonnegative(), bytes: z.number().nonnegative() }),
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
    payload: Step.extend({ spec: ContainerSpec, frozen: z.boolean(), mode: MigrationMode.optional() }),
    result: z.object({
      resumed: z.boolean(),
      running: z.literal(true),
      /** The checkpoint it resumed from; null when started fresh (memory state lost) or already running. */
      fromCheckpoint: z.string().nullable(),
    }),
  },
} as const;

export type MigrationCommandType = keyof typeof migrationProtocol;
