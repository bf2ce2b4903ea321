import type { JobPolicy, JobRecord, JobState } from "../../../../shared/src/contracts/jobs.js";

/** What a placed job container holds on its node, keyed by container name (a migration keeps the name). */
export interface Reservation {
  container: string;
  jobId: string;
  /** Where it was placed, or where it was last seen running (a migration moves it). */
  nodeId: string;
  cpus: number;
  memoryBytes: number;
}

export interface SchedulerSettings {
  policy: JobPolicy;
  paused: boolean;
}

/** A state change applied atomically, only if the job is still in one of `from`. */
export interface JobTransition {
  from: readonly JobState[];
  job: JobRecord;
  /** Take the job off the queue. */
  dequeue?: boolean;
  /** Add to / drop from the set of jobs being placed or running. */
  active?: "add" | "remove";
  reserve?: readonly Reservation[];
  release?: readonly string[];
}

/**
 * Durable job state. Contract: what is written is read back by every later call and by a restarted
 * control service; a transition is all-or-nothing and happens only if the job is in one of the
 * expected states (so a cancel racing a placement loses or wins whole); the queue is ordered by
 * priority (higher first), then submission.
 */
export interface JobStore {
  nextId(): Promise<string>;
  /** Stores a new queued job and puts it on the queue. */
  enqueue(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Newest first. */
  list(limit: number, state?: JobState): Promise<JobRecord[]>;
  /** Waiting jobs in queue order. */
  queued(limit: number): Promise<JobRecord[]>;
  queueLength(): Promise<number>;
  /** Jobs being placed or running. */
  active(): Promise<JobRecord[]>;
  transition(t: JobTransition): Promise<boolean>;
  /** Deletes a finished job's record. */
  remove(id: string): Promise<boolean>;
  reservations(): Promise<Reservation[]>;
  /** Records that a reserved container now lives on another node. */
  moveReservation(container: string, nodeId: string): Promise<void>;
  settings(defaults: SchedulerSettings): Promise<SchedulerSettings>;
  saveSettings(s: SchedulerSettings): Promise<void>;
}
