import { FORWARD_STEPS, type ForwardStep, type MigrationRecord } from "../../../../shared/src/contracts/migration-api.js";

// The record's shape is a wire contract (REST responses, Redis): shared/src/contracts/migration-api.ts.
export {
  FORWARD_STEPS,
  ROLLBACK_STEPS,
  TERMINAL_STATES,
  type ForwardStep,
  type MigrationRecord,
  type MigrationState,
  type StepName,
  type StepRecord,
} from "../../../../shared/src/contracts/migration-api.js";

/**
 * The part of a migration's bound kept for rolling back: a quarter of it, at least 10 s, but never
 * more than half, so that even the shortest bound the API accepts (10 s) leaves time to go forward.
 */
export function defaultRollbackReserve(boundMs: number): number {
  return Math.min(Math.round(boundMs / 2), Math.max(10_000, Math.round(boundMs / 4)));
}

/** The smallest bound whose forward part (bound − defaultRollbackReserve(bound)) is at least `forwardMs`. */
export function boundWithForward(forwardMs: number): number {
  if (forwardMs <= 10_000) return 2 * forwardMs; // reserve = bound / 2
  if (forwardMs <= 30_000) return forwardMs + 10_000; // reserve = 10 s
  return Math.ceil((4 * forwardMs) / 3) + 1; // reserve = bound / 4 (+1: its rounding)
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

/** The destination reported its copy running from the checkpoint. */
export function restoreSucceeded(r: MigrationRecord): boolean {
  // A verify that found the copy running counts too: the restore's own answer may have been lost.
  return r.steps.some((s) => (s.name === "restore" || s.name === "verify") && s.ok === true);
}

const stepOk = (r: MigrationRecord, name: string) => r.steps.some((s) => s.name === name && s.ok === true);
const lastError = (r: MigrationRecord, name: string) => [...r.steps].reverse().find((s) => s.name === name && s.ok === false)?.error;

/**
 * Where the container is, in one plain sentence, from what the record proves: every terminal
 * migration carries it, and a failed one says exactly which copy exists where and why.
 */
export function whereabouts(r: MigrationRecord): string {
  const name = r.containerName;
  const checkpoint = r.checkpointName ? ` (checkpoint ${r.checkpointName} kept there)` : "";
  if (r.state === "committed") return `${name} runs on ${r.destination}; the source copy on ${r.source} was removed`;
  if (destinationRuns(r)) {
    // Past finish: the destination copy is the one; only the source's removal is outstanding.
    const why = lastError(r, "commit");
    return `${name} runs on ${r.destination}; the stopped source copy on ${r.source} is not removed yet${why ? ` (${why})` : ""}${checkpoint}. It has no restart policy and will not run again; remove it with \`docker rm\` on ${r.source}`;
  }
  if (r.state === "rolled-back") {
    if (!r.frozen) return `${name} runs on ${r.source}; it was never stopped`;
    const resumed = [...r.steps].reverse().find((s) => s.name === "resume-source" && s.ok === true);
    return resumed ? `${name} runs on ${r.source} again, resumed after the rollback` : `${name} runs on ${r.source}`;
  }
  const aborted = stepOk(r, "abort-destination");
  const destination = !r.destinationContainerId
    ? `no copy was created on ${r.destination}`
    : aborted
      ? `the copy on ${r.destination} was removed`
      : `a copy may exist on ${r.destination} (container ${r.destinationContainerId.slice(0, 12)}; ${lastError(r, "abort-destination") ?? "its removal was not confirmed"}) — it has no restart policy`;
  const source = !r.frozen
    ? `${name} still runs on ${r.source}`
    : stepOk(r, "resume-source")
      ? `${name} runs on ${r.source} again`
      : // The freeze was sent but never confirmed: the dump may not have started at all.
        `${name} ${r.checkpointName ? "is" : "may be"} stopped on ${r.source}${r.checkpointName ? checkpoint : " (the freeze was sent but never confirmed: if the dump did not start, it still runs there)"}${aborted ? "" : "; it is not resumed while the destination copy is unaccounted for"}`;
  return `${source}; ${destination}`;
}
