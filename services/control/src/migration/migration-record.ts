import type { WireError } from "../../../../shared/src/errors.js";

/** The saga's forward steps, in order; "commit" is remove-source. */
export const FORWARD_STEPS = ["describe", "prepare", "precopy", "freeze", "restore", "verify", "finish", "commit"] as const;
export type ForwardStep = (typeof FORWARD_STEPS)[number];
export const ROLLBACK_STEPS = ["abort-destination", "resume-source"] as const;
export type RollbackStep = (typeof ROLLBACK_STEPS)[number];
export type StepName = ForwardStep | RollbackStep | "ship-image";

export type MigrationState = "running" | "rolling-back" | "committed" | "rolled-back" | "failed";

export interface StepRecord {
  name: StepName;
  node: string;
  startedAt: number;
  finishedAt?: number;
  ok?: boolean;
  bytes?: number;
  error?: string;
}

export interface MigrationRecord {
  id: string;
  containerId: string;
  containerName: string;
  source: string;
  destination: string;
  state: MigrationState;
  /** The step being run now (or last run). */
  step: StepName;
  steps: StepRecord[];
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Full spec from the source's describe step (the destination is created from it). */
  spec?: Record<string, unknown> & { id: string; name: string; image: string; imageId: string };
  destinationContainerId?: string;
  checkpointName?: string;
  /** The source container was checkpointed (stopped); a rollback must restore it. */
  frozen: boolean;
  frozenAt?: number;
  /** Time between the freeze starting and the destination running. */
  frozenMs?: number;
  totalMs?: number;
  bytes: number;
  /** Live progress of the running step (bytes so far), for `herd migrate`'s display. */
  live?: { step: string; bytes?: number; totalBytes?: number; message?: string; at: number };
  error?: WireError;
  reason?: string;
}

/** What a restarted control service does with a migration it finds unfinished. */
export type Recovery = "continue-forward" | "roll-back" | "continue-rollback" | "nothing";

/**
 * Pure recovery rule: before the freeze the container still runs on the source, so rolling back
 * is cheap and safe; from the freeze on, the checkpoint exists and going forward (re-sending the
 * same idempotent commands) gets the container running soonest.
 */
export function recoveryFor(r: MigrationRecord): Recovery {
  if (r.state === "rolling-back") return "continue-rollback";
  if (r.state !== "running") return "nothing";
  const freezeAt = FORWARD_STEPS.indexOf("freeze");
  const at = FORWARD_STEPS.indexOf(r.step as ForwardStep);
  if (r.step === "ship-image") return "roll-back";
  return at >= freezeAt || r.frozen ? "continue-forward" : "roll-back";
}

/**
 * Once `finish` saw the destination still running (after `verify`), only forward is safe: the
 * commit removes the source. Until then a failure rolls back to the source's checkpoint.
 */
export function destinationRuns(r: MigrationRecord): boolean {
  return r.steps.some((s) => s.name === "finish" && s.ok === true);
}
