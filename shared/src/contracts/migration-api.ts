import { z } from "zod";
import { WireErrorSchema } from "./common.js";
import { ContainerSpec } from "./container-spec.js";
import { MigrationMode } from "./migration-protocol.js";

/**
 * What the REST API says about migrations (`/api/v1/migrations…`) and what the control service
 * stores in Redis: one schema, read back through it on both sides.
 */

/** The saga's forward steps, in order; "commit" is remove-source. */
export const FORWARD_STEPS = ["describe", "prepare", "precopy", "freeze", "restore", "verify", "pages", "finish", "commit"] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];
export const ROLLBACK_STEPS = ["abort-destination", "resume-source"] as const;
export const StepName = z.enum([...FORWARD_STEPS, ...ROLLBACK_STEPS, "ship-image"]);
export type StepName = z.infer<typeof StepName>;

/**
 * running → committed, or running → rolling-back → rolled-back; `failed` is the terminal state
 * when the bound ran out before either could be reached: `whereabouts` then says exactly where
 * the container is.
 */
export const MigrationState = z.enum(["running", "rolling-back", "committed", "rolled-back", "failed"]);
export type MigrationState = z.infer<typeof MigrationState>;
export const TERMINAL_STATES: readonly MigrationState[] = ["committed", "rolled-back", "failed"];

export const StepRecord = z.object({
  name: StepName,
  node: z.string(),
  /** When the node started / finished the work (its own clock); until it answers, when control sent it. */
  startedAt: z.number(),
  finishedAt: z.number().optional(),
  ok: z.boolean().optional(),
  bytes: z.number().optional(),
  error: z.string().optional(),
  /** Times the command was sent again for want of an answer. */
  resent: z.number().int().nonnegative().optional(),
});
export type StepRecord = z.infer<typeof StepRecord>;

export const LiveProgress = z.object({
  step: z.string(),
  bytes: z.number().optional(),
  totalBytes: z.number().optional(),
  message: z.string().optional(),
  at: z.number(),
});

export const MigrationRecord = z.object({
  id: z.string(),
  containerId: z.string(),
  containerName: z.string(),
  source: z.string(),
  destination: z.string(),
  state: MigrationState,
  /** The step being run now (or last run). */
  step: StepName,
  steps: z.array(StepRecord),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
  /** The migration reaches a terminal state by this time (control's clock). */
  deadlineAt: z.number().optional(),
  /** Full spec from the source's describe step (the destination is created from it). */
  spec: ContainerSpec.optional(),
  destinationContainerId: z.string().optional(),
  checkpointName: z.string().optional(),
  /** The freeze was sent: the source may be stopped, a rollback must restore it. */
  frozen: z.boolean(),
  /** When the source's dump started (source's clock). */
  frozenAt: z.number().optional(),
  /** When the destination's copy first ran (destination's clock). */
  runningAt: z.number().optional(),
  /** Dump start on the source → process running on the destination. */
  frozenMs: z.number().optional(),
  totalMs: z.number().optional(),
  bytes: z.number(),
  /** Live progress of the running step (bytes so far), for `herd migrate`'s display. */
  live: LiveProgress.optional(),
  error: WireErrorSchema.optional(),
  /** Why the migration was started (an operator, the rebalancer's reason, a QoS request). */
  reason: z.string().optional(),
  /** Where the container is, said plainly; always set once terminal. */
  whereabouts: z.string().optional(),
  /** How memory moves (stop-and-copy, and why not pre-copy), said when the migration is started. */
  notes: z.array(z.string()).optional(),
  /** How memory moves; absent in records from before modes existed (= stop-and-copy). */
  mode: MigrationMode.optional(),
  /** Post-copy: the port of the source's page server (on the source's cluster address). */
  pageServerPort: z.number().int().optional(),
  /** Post-copy: every page reached the destination and the source was released (destination's clock). */
  sourceReleasedAt: z.number().optional(),
});
export type MigrationRecord = z.infer<typeof MigrationRecord>;

export const MigrationList = z.object({ migrations: z.array(MigrationRecord) });
export type MigrationList = z.infer<typeof MigrationList>;

export const DryRunReport = z.object({
  wouldMigrate: z.boolean(),
  container: z.string(),
  source: z.string().optional(),
  destination: z.string(),
  reasons: z.array(z.string()),
  steps: z.array(z.string()),
  /** How memory would move: stop-and-copy, and why not pre-copy (the source's CRIU dirty-page tracking). */
  notes: z.array(z.string()).default([]),
});
export type DryRunReport = z.infer<typeof DryRunReport>;

/** Body of POST /migrations. */
export const StartMigrationBody = z.object({
  container: z.string().min(1, "is required"),
  to: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be a node id"),
  dryRun: z.boolean().default(false),
  /** Bound on the whole migration, rollback included (default: the control service's setting). */
  deadlineMs: z.number().int().min(10_000).max(3_600_000).optional(),
  reason: z.string().max(500).optional(),
  /** stop-and-copy (default), post-copy, or auto (post-copy when both nodes can and the container is large enough). */
  mode: z.enum(["stop-and-copy", "post-copy", "auto"], { message: "must be one of stop-and-copy, post-copy, auto" }).optional(),
});
export type StartMigrationBody = z.infer<typeof StartMigrationBody>;
