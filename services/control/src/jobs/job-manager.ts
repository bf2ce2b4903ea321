import type { CommandPayload, CommandResult, CommandType, TelemetryBatch } from "../../../../shared/src/contracts/index.js";
import {
  FINISHED_JOB_STATES,
  type JobDeleted,
  type JobRecord,
  type JobState,
  type JobSubmission,
  type JobTask,
  type SchedulerStatus,
} from "../../../../shared/src/contracts/jobs.js";
import { ConflictError, HerdError, NotFoundError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { neverFits, packBatch } from "../placement/bin-packing.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { StateStore } from "../state/state-store.js";
import type { JobStore, Reservation, SchedulerSettings } from "./job-store.js";
import { capacityViews, nodeCapacity, packingNodes } from "./node-capacity.js";

/** A job that can never be placed (a container larger than every node): HTTP 422. */
export class JobRefusedError extends HerdError {
  constructor(readonly reason: string) {
    super(`job refused: ${reason}`, { code: "UNPLACEABLE", retryable: false });
    this.name = "JobRefusedError";
  }
}

/** The one thing the manager needs from the command client. */
export interface JobCommandSender {
  send<T extends CommandType>(nodeId: string, type: T, payload: CommandPayload<T>, options: { timeoutMs?: number; commandId?: string }): Promise<CommandResult>;
}

export interface JobManagerDeps {
  jobs: JobStore;
  state: StateStore;
  commands: JobCommandSender;
  log: Logger;
  defaults: SchedulerSettings;
  downAfterMs: number;
  /** True while a live migration holds the container (its source then shows as exited). */
  isMigrating: (containerName: string) => Promise<boolean>;
  now?: () => number;
  /** How long to wait for a node to start a job's container before trying the same command again. */
  runTimeoutMs?: number;
  /** Placement rounds also run on this period (nodes joining, capacity reported late). */
  roundIntervalMs?: number;
  /**
   * With several control replicas only the leader places jobs (two placing from their own
   * snapshots of the reservations would overcommit a node); any replica takes submissions and
   * cancellations. A replica that becomes leader first re-sends the start commands of jobs left
   * mid-placement. Absent: this process always places.
   */
  mayPlace?: () => boolean;
}

const MiB = 1_048_576;
const JOB_LABEL = "herd.job";
const ACTIVE: readonly JobState[] = ["placing", "running"];

/** Deterministic command ids: a restarted control service re-sends the same commands, which nodes answer from their journal. */
export const runCommandId = (jobId: string, task: number) => `${jobId}-t${task}-run`;
const removeCommandId = (jobId: string, task: number) => `${jobId}-t${task}`;
export const containerNameFor = (jobId: string, task: number) => `${jobId}-${task}`;

/**
 * Jobs: admission (refuse what can never fit), the durable queue, placement rounds (bin packing on
 * reservations), starting containers, following them to completion through telemetry, and
 * cancellation. Every state change is written to the store before anything is sent to a node, so a
 * restarted control service re-sends the same idempotent commands instead of starting a job twice.
 * Mutations are serialized in this process and compare-and-set in the store; only the leader
 * places (see {@link JobManagerDeps.mayPlace}).
 */
export class JobManager {
  private readonly now: () => number;
  private chain: Promise<unknown> = Promise.resolve();
  private roundRunning = false;
  private roundAgain = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly launching = new Set<string>();
  /** Whether this process was placing at its last round (a change to true re-sends interrupted placements). */
  private placing = false;

  constructor(private readonly d: JobManagerDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Serializes a mutation with every other one. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Schedules rounds; the first round this process places in re-sends the start commands of jobs interrupted mid-placement. */
  async start(): Promise<void> {
    this.timer = setInterval(() => this.kick(), this.d.roundIntervalMs ?? 2_000);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  async settings(): Promise<SchedulerSettings> {
    return this.d.jobs.settings(this.d.defaults);
  }

  async updateSettings(patch: Partial<SchedulerSettings>): Promise<SchedulerStatus> {
    const s = { ...(await this.settings()), ...patch };
    await this.d.jobs.saveSettings(s);
    this.kick();
    return this.status();
  }

  async status(): Promise<SchedulerStatus> {
    const [s, queued, nodes] = await Promise.all([this.settings(), this.d.jobs.queueLength(), this.capacities()]);
    return { ...s, queued, nodes };
  }

  private async capacities() {
    const [nodes, reservations, containers] = await Promise.all([this.d.state.listNodes(), this.d.jobs.reservations(), this.d.state.listContainers()]);
    // Where each reserved container runs now; a running copy wins over a stopped one (a migration's source).
    const where = new Map<string, { nodeId: string; running: boolean }>();
    const reserved = new Set(reservations.map((r) => r.container));
    for (const c of containers) {
      if (!reserved.has(c.name)) continue;
      const prev = where.get(c.name);
      if (!prev || (!prev.running && c.state === "running")) where.set(c.name, { nodeId: c.nodeId, running: c.state === "running" });
    }
    const t = this.now();
    return capacityViews(nodes, (n) => nodeStatus(n, t, this.d.downAfterMs), reservations, new Map([...where].map(([k, v]) => [k, v.nodeId])));
  }

  /** Admits a job: refused at once (JobRefusedError) if no node could ever hold one of its containers. */
  async submit(sub: JobSubmission): Promise<JobRecord> {
    // Against every known node's whole capacity (up or down, reserved or not): "never" means never.
    const sizes = (await this.d.state.listNodes()).map((n) => ({ id: n.id, ...nodeCapacity(n) }));
    const why = neverFits(
      sub.containers.map((c) => ({ cpus: c.cpus, memoryBytes: c.memoryMb * MiB })),
      sizes.filter((v) => v.cpus > 0 && v.memoryBytes > 0),
    );
    if (why) throw new JobRefusedError(why);
    const id = await this.d.jobs.nextId();
    const job: JobRecord = {
      id,
      name: sub.name,
      state: "queued",
      priority: sub.priority,
      ...(sub.policy ? { policy: sub.policy } : {}),
      submittedAt: this.now(),
      tasks: sub.containers.map((c, i) => ({ ...c, container: containerNameFor(id, i), state: "pending" })),
    };
    await this.d.jobs.enqueue(job);
    this.d.log.info("Job queued", { jobId: id, name: job.name, containers: job.tasks.length });
    this.kick();
    return job;
  }

  async get(id: string): Promise<JobRecord> {
    const j = await this.d.jobs.get(id);
    if (!j) throw new NotFoundError(`no job ${id}`);
    return j;
  }

  list(limit: number, state?: JobState): Promise<JobRecord[]> {
    return this.d.jobs.list(limit, state);
  }

  /** Cancels a waiting or running job (its containers are removed); deletes the record of a finished one. */
  cancel(id: string): Promise<JobDeleted> {
    return this.exclusive(async () => {
      const job = await this.get(id);
      if (FINISHED_JOB_STATES.includes(job.state)) {
        await this.d.jobs.remove(id);
        return { id, action: "removed" };
      }
      const cancelled: JobRecord = { ...job, state: "cancelled", finishedAt: this.now(), reason: "cancelled by request" };
      const ok = await this.d.jobs.transition({
        from: [job.state],
        job: cancelled,
        dequeue: true,
        active: "remove",
        release: job.tasks.map((t) => t.container),
      });
      if (!ok) throw new ConflictError(`job ${id} changed state while being cancelled; try again`);
      this.removeContainers(cancelled);
      this.kick();
      return { id, action: "cancelled", job: cancelled };
    });
  }

  /** Asks for a placement round soon; rounds never overlap. */
  kick(): void {
    if (this.stopped) return;
    if (this.roundRunning) {
      this.roundAgain = true;
      return;
    }
    this.roundRunning = true;
    void (async () => {
      try {
        do {
          this.roundAgain = false;
          await this.exclusive(() => this.round());
        } while (this.roundAgain && !this.stopped);
      } catch (err) {
        this.d.log.warn("Placement round failed", { error: errorMessage(err) });
      } finally {
        this.roundRunning = false;
      }
    })();
  }

  /** One placement round over the waiting batch. Returns how many jobs were placed. */
  private async round(): Promise<number> {
    const leading = this.d.mayPlace?.() ?? true;
    if (!leading) {
      this.placing = false;
      return 0;
    }
    if (!this.placing) {
      this.placing = true;
      for (const job of await this.d.jobs.active()) if (job.state === "placing") this.launch(job);
    }
    const s = await this.settings();
    if (s.paused) return 0;
    const queue = await this.d.jobs.queued(10_000);
    if (queue.length === 0) return 0;
    const nodes = packingNodes(await this.capacities());
    const packed = packBatch(
      s.policy,
      nodes,
      queue.map((j) => ({
        id: j.id,
        priority: j.priority,
        ...(j.policy ? { policy: j.policy } : {}),
        items: j.tasks.map((t) => ({ cpus: t.cpus, memoryBytes: t.memoryMb * MiB })),
      })),
    );
    const byId = new Map(queue.map((j) => [j.id, j]));
    let placed = 0;
    for (const [id, where] of packed.placed) {
      const job = byId.get(id)!;
      const next: JobRecord = {
        ...job,
        state: "placing",
        placedAt: this.now(),
        reason: `placed by ${job.policy ?? s.policy}`,
        tasks: job.tasks.map((t, i) => ({ ...t, nodeId: where[i]!, state: "starting" })),
      };
      const reserve: Reservation[] = next.tasks.map((t) => ({
        container: t.container,
        jobId: id,
        nodeId: t.nodeId!,
        cpus: t.cpus,
        memoryBytes: t.memoryMb * MiB,
      }));
      // The claim (state, reservations, off the queue) is durable before any command is sent.
      if (!(await this.d.jobs.transition({ from: ["queued"], job: next, dequeue: true, active: "add", reserve }))) continue;
      placed++;
      this.d.log.info("Job placed", { jobId: id, nodes: where.join(",") });
      this.launch(next);
    }
    const reason = nodes.length === 0 ? "waiting: no node is up with a known capacity" : "waiting for capacity";
    for (const id of packed.waiting) {
      const job = byId.get(id)!;
      if (job.reason !== reason) await this.d.jobs.transition({ from: ["queued"], job: { ...job, reason } });
    }
    return placed;
  }

  /** Starts a placed job's containers (idempotent commands); settles it on the answers. */
  private launch(job: JobRecord): void {
    if (this.launching.has(job.id) || this.stopped) return;
    this.launching.add(job.id);
    const timeoutMs = this.d.runTimeoutMs ?? 60_000;
    void Promise.allSettled(
      job.tasks.map((t, i) =>
        this.d.commands.send(
          t.nodeId!,
          "container.run",
          {
            name: t.container,
            image: t.image,
            cmd: t.cmd,
            env: t.env,
            labels: { [JOB_LABEL]: job.id, "herd.job.task": String(i) },
            memoryBytes: t.memoryMb * MiB,
            cpus: t.cpus,
          },
          { commandId: runCommandId(job.id, i), timeoutMs },
        ),
      ),
    )
      .then((answers) => this.exclusive(() => this.onLaunched(job.id, answers)))
      .catch((err: unknown) => this.d.log.warn("Job launch bookkeeping failed", { jobId: job.id, error: errorMessage(err) }))
      .finally(() => this.launching.delete(job.id));
  }

  private async onLaunched(id: string, answers: PromiseSettledResult<CommandResult>[]): Promise<void> {
    const job = await this.d.jobs.get(id);
    if (!job) return;
    if (job.state !== "placing" && job.state !== "running") {
      // Cancelled while its containers were being started: make sure none is left behind
      // (a new command id: the first removal may have run before the start).
      this.removeContainers(job, "late");
      return;
    }
    const refused = answers.findIndex((a) => a.status === "fulfilled" && !a.value.ok);
    if (refused >= 0) {
      const a = answers[refused];
      const msg = a?.status === "fulfilled" ? (a.value.error?.message ?? "refused") : "refused";
      await this.finish(job, "failed", `container ${refused} could not start on ${job.tasks[refused]?.nodeId}: ${msg}`);
      return;
    }
    if (answers.some((a) => a.status === "rejected")) {
      // A node did not answer in time: the command stays queued for it; ask again with the same id later.
      this.d.log.warn("Job start not confirmed yet; will ask again", { jobId: id });
      setTimeout(() => {
        void this.d.jobs.get(id).then((j) => j?.state === "placing" && this.launch(j));
      }, 5_000).unref();
      return;
    }
    const tasks = job.tasks.map((t, i) => {
      const a = answers[i];
      const containerId = a?.status === "fulfilled" ? idOf(a.value.result) : undefined;
      return { ...t, ...(containerId ? { containerId } : {}), state: t.state === "exited" ? t.state : ("running" as const) };
    });
    const next: JobRecord = { ...job, state: "running", runningAt: job.runningAt ?? this.now(), tasks };
    await this.settleOrSave(job, next);
  }

  /** Follows job containers in a node's telemetry: running, exited (with code), moved by a migration. */
  observe(batch: TelemetryBatch): Promise<void> {
    const mine = batch.containers.filter((c) => c.labels[JOB_LABEL] !== undefined);
    if (mine.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      const byJob = new Map<string, typeof mine>();
      for (const c of mine) byJob.set(c.labels[JOB_LABEL]!, [...(byJob.get(c.labels[JOB_LABEL]!) ?? []), c]);
      for (const [id, samples] of byJob) {
        const job = await this.d.jobs.get(id);
        if (!job || !ACTIVE.includes(job.state)) continue;
        let changed = false;
        const tasks: JobTask[] = [];
        for (const t of job.tasks) {
          const s = samples.find((c) => c.name === t.container);
          if (!s || t.state === "exited") {
            tasks.push(t);
            continue;
          }
          if (s.state === "running" && t.nodeId !== batch.nodeId) {
            // A live migration moved it: the reservation follows the container.
            await this.d.jobs.moveReservation(t.container, batch.nodeId);
            this.d.log.info("Job container moved", { jobId: id, container: t.container, from: t.nodeId, to: batch.nodeId });
            tasks.push({ ...t, nodeId: batch.nodeId, containerId: s.id, state: "running" });
            changed = true;
          } else if (s.state === "running" && t.state === "starting") {
            tasks.push({ ...t, state: "running", containerId: s.id });
            changed = true;
          } else if ((s.state === "exited" || s.state === "dead") && t.nodeId === batch.nodeId && !(await this.movedAway(t.container, batch.nodeId))) {
            tasks.push({ ...t, state: "exited", containerId: s.id, ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}) });
            changed = true;
          } else {
            tasks.push(t);
          }
        }
        if (changed) await this.settleOrSave(job, { ...job, tasks });
      }
    });
  }

  /**
   * An exited copy is not the job's end while a migration holds the container (its source is
   * checkpointed, i.e. stopped) or once the name runs on another node (a late batch of the source).
   */
  private async movedAway(container: string, nodeId: string): Promise<boolean> {
    if (await this.d.isMigrating(container)) return true;
    const owner = await this.d.state.findContainer(container);
    return owner !== undefined && owner.state === "running" && owner.nodeId !== nodeId;
  }

  /** Saves a job's new view, or finishes it when every container has exited. */
  private async settleOrSave(before: JobRecord, next: JobRecord): Promise<void> {
    if (next.tasks.every((t) => t.state === "exited")) {
      const bad = next.tasks.findIndex((t) => t.exitCode !== 0);
      const t = next.tasks[bad];
      if (bad < 0) await this.finish(next, "succeeded");
      else await this.finish(next, "failed", `container ${bad} exited with ${t?.exitCode ?? "an unknown code"}`);
      return;
    }
    await this.d.jobs.transition({ from: [before.state], job: next });
  }

  private async finish(job: JobRecord, state: "succeeded" | "failed", reason?: string): Promise<void> {
    const { reason: _placedBy, ...rest } = job;
    const done: JobRecord = { ...rest, state, finishedAt: this.now(), ...(reason ? { reason } : {}) };
    const ok = await this.d.jobs.transition({ from: ACTIVE, job: done, active: "remove", release: job.tasks.map((t) => t.container) });
    if (!ok) return;
    this.d.log.info("Job finished", { jobId: job.id, state, ...(reason ? { reason } : {}) });
    this.removeContainers(done);
    this.kick();
  }

  /** Best effort: a finished or cancelled job's containers are removed from their nodes. */
  private removeContainers(job: JobRecord, attempt = "rm"): void {
    job.tasks.forEach((t, i) => {
      if (!t.nodeId) return;
      void this.d.commands
        .send(
          t.nodeId,
          "container.remove",
          { container: t.container, force: true },
          { commandId: `${removeCommandId(job.id, i)}-${attempt}`, timeoutMs: 60_000 },
        )
        .catch((err: unknown) => this.d.log.warn("Could not remove a job container", { jobId: job.id, container: t.container, error: errorMessage(err) }));
    });
  }
}

function idOf(result: unknown): string | undefined {
  if (typeof result === "object" && result !== null && "id" in result && typeof result.id === "string") return result.id;
  return undefined;
}
