import { z } from "zod";

/**
 * The jobs REST contract (/api/v1/jobs, /api/v1/scheduler): request and response schemas. The
 * control service validates with them, the OpenAPI document is generated from them and the CLI
 * reads responses through them.
 */

/** First-Fit, Best-Fit, First-Fit-Decreasing, Best-Fit-Decreasing. */
export const JobPolicy = z
  .enum(["ff", "bf", "ffd", "bfd"])
  .meta({ description: "bin-packing policy: first-fit, best-fit, first-fit-decreasing, best-fit-decreasing" });
export type JobPolicy = z.infer<typeof JobPolicy>;

export const JobId = z.string().regex(/^j-[0-9]{1,12}$/, "must look like j-42");

/** One container of a job, with what it reserves (enforced by the agent as --cpus / --memory). */
export const JobContainerSpec = z.object({
  image: z.string().min(1, "is required").max(256),
  cmd: z.array(z.string().max(4096)).max(256).default([]),
  cpus: z.number().positive().max(64).meta({ description: "CPU cores reserved (and enforced as a CFS quota)" }),
  memoryMb: z
    .number()
    .int()
    .min(6, "must be at least 6 (Docker's minimum memory limit)")
    .max(4_194_304)
    .meta({ description: "memory reserved and enforced as the limit, MiB" }),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names must be [A-Za-z_][A-Za-z0-9_]*"), z.string().max(32_768)).default({}),
});
export type JobContainerSpec = z.infer<typeof JobContainerSpec>;

export const JobSubmission = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "must be 1-63 of [A-Za-z0-9_.-], starting with a letter or digit"),
    containers: z.array(JobContainerSpec).min(1, "needs at least one container").max(32),
    priority: z.number().int().min(0).max(100).default(0).meta({ description: "higher is placed first (0-100)" }),
    policy: JobPolicy.optional().meta({ description: "overrides the cluster's policy for this job" }),
  })
  .meta({ id: "JobSubmission" });
export type JobSubmission = z.infer<typeof JobSubmission>;

export const JobState = z.enum(["queued", "placing", "running", "succeeded", "failed", "cancelled"]);
export type JobState = z.infer<typeof JobState>;
export const FINISHED_JOB_STATES: readonly JobState[] = ["succeeded", "failed", "cancelled"];

export const JobTask = JobContainerSpec.extend({
  /** The container's name on its node: derived from the job id and the task index, so unique. */
  container: z.string(),
  nodeId: z.string().optional(),
  containerId: z.string().optional(),
  state: z.enum(["pending", "starting", "running", "exited"]),
  exitCode: z.number().int().optional(),
});
export type JobTask = z.infer<typeof JobTask>;

export const JobRecord = z
  .object({
    id: JobId,
    name: z.string(),
    state: JobState,
    priority: z.number().int(),
    /** The policy the job asked for; absent = the cluster's. */
    policy: JobPolicy.optional(),
    submittedAt: z.number().int(),
    placedAt: z.number().int().optional(),
    runningAt: z.number().int().optional(),
    finishedAt: z.number().int().optional(),
    /** Why it waits, why it failed or who cancelled it. */
    reason: z.string().optional(),
    tasks: z.array(JobTask),
  })
  .meta({ id: "Job" });
export type JobRecord = z.infer<typeof JobRecord>;

export const JobListQuery = z.object({
  state: JobState.optional(),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000),
});
export const JobList = z.object({ jobs: z.array(JobRecord) }).meta({ id: "JobList" });

export const JobDeleted = z.object({ id: JobId, action: z.enum(["cancelled", "removed"]), job: JobRecord.optional() }).meta({ id: "JobDeleted" });
export type JobDeleted = z.infer<typeof JobDeleted>;

/** 422: the job can never fit (a container larger than every node). */
export const JobRefused = z.object({ error: z.string(), reason: z.string() }).meta({ id: "JobRefused" });

export const NodeCapacityView = z.object({
  id: z.string(),
  status: z.enum(["up", "down"]),
  cpus: z.number(),
  memoryBytes: z.number(),
  reservedCpus: z.number(),
  reservedMemoryBytes: z.number(),
  /** Where the capacity came from: the agent's heartbeat, or telemetry for agents that do not report it. */
  source: z.enum(["heartbeat", "telemetry", "unknown"]),
});
export type NodeCapacityView = z.infer<typeof NodeCapacityView>;

export const SchedulerSettingsBody = z.object({ policy: JobPolicy.optional(), paused: z.boolean().optional() }).meta({ id: "SchedulerSettingsBody" });
export const SchedulerStatus = z
  .object({
    policy: JobPolicy,
    paused: z.boolean(),
    queued: z.number().int(),
    nodes: z.array(NodeCapacityView),
  })
  .meta({ id: "SchedulerStatus" });
export type SchedulerStatus = z.infer<typeof SchedulerStatus>;
