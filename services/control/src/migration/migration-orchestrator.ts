import { randomBytes } from "node:crypto";
import type { CommandPayload, CommandResultValue, CommandType, DryRunReport } from "../../../../shared/src/contracts/index.js";
import {
  ConflictError,
  ExternalError,
  HerdError,
  NotFoundError,
  TimeoutError,
  ValidationError,
  errorMessage,
  toWire,
  type WireError,
} from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { CommandClient, TypedCommandResult } from "../commands/command-client.js";
import { FencedError } from "../leader/leader-lease.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { ContainerRecord, NodeRecord, StateStore } from "../state/state-store.js";
import {
  boundWithForward,
  defaultRollbackReserve,
  destinationRuns,
  restoreSucceeded,
  recoveryFor,
  whereabouts,
  type MigrationRecord,
  type StepName,
  type StepRecord,
} from "./migration-record.js";
import type { MigrationStore } from "./migration-store.js";
import { memoryPreCopyNote } from "./memory-precopy-note.js";
import { chooseMode, type RequestedMode } from "./migration-mode.js";

export type { DryRunReport } from "../../../../shared/src/contracts/index.js";

export interface MigrationRequest {
  container: string;
  to: string;
  /** Bound on the whole migration, rollback included; default: the orchestrator's `deadlineMs`. */
  deadlineMs?: number;
  /** Why it is started (shown by `herd migrations`). */
  reason?: string;
  /** How memory moves (default stop-and-copy); see chooseMode. */
  mode?: RequestedMode;
}

export interface MigrationCheck {
  container: ContainerRecord;
  source: NodeRecord;
  destination: NodeRecord;
  memoryBytes: number;
  mode: "stop-and-copy" | "post-copy";
  /** Why this mode (auto's choice, post-copy's risk). */
  modeNotes: string[];
}

export interface MigrationOrchestratorOptions {
  /** Where containers and nodes are (only these two look-ups are needed). */
  state: Pick<StateStore, "findContainer" | "getNode">;
  migrations: MigrationStore;
  commands: CommandClient;
  log: Logger;
  downAfterMs: number;
  /** Port of every node's transfer (rsync) daemon. */
  transferPort: number;
  /** Every migration is terminal (committed, rolled back or failed with its whereabouts) within this bound. */
  deadlineMs?: number;
  /**
   * The part of the bound kept for rolling back: forward work that has not got the destination
   * running by `deadline − rollbackReserveMs` is abandoned and rolled back.
   */
  rollbackReserveMs?: number;
  /** How long to wait for one answer before re-sending the same (idempotent) command. */
  resendAfterMs?: number;
  /** Headroom the destination must keep besides the container's memory. */
  memoryHeadroomBytes?: number;
  /** How long the destination watches its restored copy before `verify` answers (default 1 s). */
  verifySettleMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * With several control replicas: new migrations are recorded through `submissions` (unfenced,
   * any replica may accept a request) and driven only while `leadership.token()` is defined and
   * unchanged since the drive began; `migrations` is then the fenced store, so a deposed leader's
   * writes are rejected in Redis. Without it, this process drives everything it records.
   */
  leadership?: { token(): string | undefined };
  submissions?: MigrationStore;
}

export const DEFAULT_MIGRATION_DEADLINE_MS = 120_000;

/** Post-copy page servers listen on a port from this range (picked per migration). */
export const PAGE_SERVER_PORTS = { from: 27_800, count: 1_000 };

/** A step whose command came back failed, or got no answer in time; carries the cause as data. */
class StepFailed extends HerdError {
  constructor(
    readonly step: StepName,
    readonly wire: WireError,
  ) {
    super(`${step} failed: ${wire.message}`, { code: wire.code, retryable: wire.retryable });
    this.name = "StepFailed";
  }
}

const FORWARD_DESCRIPTION = [
  "describe: the source inspects the container and refuses what cannot move",
  "prepare: the destination creates the container from the source's config (shipping the image once if missing)",
  "precopy: the source syncs the writable layer and volumes while the container runs",
  "freeze: CRIU checkpoint on the source, then the final sync of deltas and checkpoint images",
  "restore: the destination starts from the checkpoint",
  "verify: the destination copy is still running a moment later (else roll back)",
  "finish: the destination copy still runs; its restart policy is applied and staging cleaned",
  "commit: the source container is removed; the new placement is recorded",
];

interface StepOptions {
  /** Give up (StepFailed with a timeout) at this time. */
  until: number;
  /** Re-run retryable failures under a new attempt id until `until` (steps that must happen). */
  retryFailures?: boolean;
  attempt?: number;
}

/**
 * Runs live migrations as sagas persisted in the migration store, driven by durable commands to
 * the two agents. Invariants: before `restore` succeeds the source copy is the only one (it is
 * stopped by the freeze, restarted only after the destination copy is removed); once the
 * destination runs, the saga only goes forward. Every migration is terminal within its bound:
 * forward work must get the destination running by `deadline − rollbackReserve`, the rollback or
 * commit must end by the deadline, else the migration is `failed` with its whereabouts. Every
 * command id is derived from the migration and the step, so a re-sent command (or one re-sent by a
 * restarted control service) gets the same answer without repeating work.
 */
export class MigrationOrchestrator {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly running = new Map<string, Promise<MigrationRecord>>();
  /** Ids being recorded by `start` (not yet tracked) and ids settled here: adoption skips both. */
  private readonly claimed = new Set<string>();
  private readonly settled = new Set<string>();
  /** The leadership token each driven migration started under; a change stops the drive. */
  private readonly driveTokens = new Map<string, string | undefined>();

  constructor(private readonly o: MigrationOrchestratorOptions) {
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Checks everything that can be checked without touching a node; throws a typed error naming the problem. */
  async check(req: MigrationRequest): Promise<MigrationCheck> {
    if (!req.container) throw new ValidationError("container", "is required");
    if (!req.to) throw new ValidationError("to", "is required");
    const container = await this.o.state.findContainer(req.container);
    if (!container) throw new NotFoundError(`no container ${req.container}`);
    // Locked by name: while a migration runs, the name may resolve to either copy.
    const holder = await this.o.migrations.lockHolder(container.name);
    if (holder) throw new ConflictError(`${container.name} is already being migrated (migration ${holder})`);
    const destination = await this.o.state.getNode(req.to);
    if (!destination) throw new NotFoundError(`no node ${req.to}`);
    const source = await this.o.state.getNode(container.nodeId);
    if (!source) throw new NotFoundError(`the node of ${container.name} (${container.nodeId}) is unknown`);
    if (destination.id === source.id) throw new ValidationError("to", `${container.name} already runs on ${source.id}`);
    const t = this.now();
    if (nodeStatus(destination, t, this.o.downAfterMs) !== "up") throw new ConflictError(`destination ${destination.id} is down`);
    if (nodeStatus(source, t, this.o.downAfterMs) !== "up") throw new ConflictError(`source ${source.id} is down`);
    if (container.state !== "running") throw new ConflictError(`${container.name} is ${container.state}, not running`);
    const memoryBytes = container.memBytes;
    const free = (destination.memTotalBytes ?? 0) - (destination.memUsedBytes ?? 0);
    const needed = memoryBytes + (this.o.memoryHeadroomBytes ?? 64 * 1024 * 1024);
    if (destination.memTotalBytes !== undefined && free < needed) {
      throw new ConflictError(`destination ${destination.id} has ${mib(free)} MiB free; ${container.name} needs ${mib(needed)} MiB (including headroom)`);
    }
    const choice = chooseMode(req.mode, { id: source.id, postCopy: source.postCopy }, { id: destination.id, postCopy: destination.postCopy }, memoryBytes);
    if (!choice.ok) throw new ConflictError(choice.reason);
    return { container, source, destination, memoryBytes, mode: choice.mode, modeNotes: choice.notes };
  }

  /** What would happen and why it would be refused; asks the source to inspect, changes nothing. */
  async dryRun(req: MigrationRequest): Promise<DryRunReport> {
    const report: DryRunReport = { wouldMigrate: false, container: req.container, destination: req.to, reasons: [], steps: FORWARD_DESCRIPTION, notes: [] };
    let check: MigrationCheck;
    try {
      check = await this.check(req);
    } catch (err) {
      report.reasons.push(errorMessage(err));
      return report;
    }
    report.source = check.source.id;
    const note = memoryPreCopyNote(check.source.id, check.source.memoryPreCopy);
    if (note && check.mode === "stop-and-copy") report.notes.push(note);
    report.notes.push(`mode: ${check.mode}`, ...check.modeNotes);
    const id = `dry-${randomBytes(4).toString("hex")}`;
    try {
      const r = await this.o.commands.send(
        check.source.id,
        "migration.describe",
        { migrationId: id, container: check.container.id },
        { timeoutMs: 30_000, workTimeoutMs: 30_000 },
      );
      if (!r.ok) report.reasons.push(r.error.message);
    } catch (err) {
      report.reasons.push(`the source ${check.source.id} did not answer: ${errorMessage(err)}`);
    }
    report.wouldMigrate = report.reasons.length === 0;
    return report;
  }

  /** Validates, records and starts a migration; resolves once it is recorded (it runs on). */
  async start(req: MigrationRequest): Promise<MigrationRecord> {
    const check = await this.check(req);
    const t = this.now();
    const id = `m${t.toString(36)}${randomBytes(3).toString("hex")}`;
    const submissions = this.o.submissions ?? this.o.migrations;
    if (!(await submissions.lock(check.container.name, id))) {
      throw new ConflictError(`${check.container.name} is already being migrated`);
    }
    const record: MigrationRecord = {
      id,
      containerId: check.container.id,
      containerName: check.container.name,
      source: check.source.id,
      destination: check.destination.id,
      state: "running",
      step: "describe",
      steps: [],
      createdAt: t,
      updatedAt: t,
      deadlineAt: t + (req.deadlineMs ?? this.deadlineMs),
      frozen: false,
      bytes: 0,
      ...(req.reason ? { reason: req.reason } : {}),
      mode: check.mode,
      // Post-copy: the source's CRIU page server listens here (on the source's cluster address) during the transfer.
      ...(check.mode === "post-copy" ? { pageServerPort: PAGE_SERVER_PORTS.from + (randomBytes(2).readUInt16BE(0) % PAGE_SERVER_PORTS.count) } : {}),
    };
    const note = memoryPreCopyNote(check.source.id, check.source.memoryPreCopy);
    const notes = [...(note && check.mode === "stop-and-copy" ? [note] : []), ...check.modeNotes];
    if (notes.length) record.notes = notes;
    this.claimed.add(id);
    try {
      await submissions.save(record);
    } catch (err) {
      this.claimed.delete(id);
      await submissions.unlock(check.container.name, id).catch(() => undefined);
      throw err;
    }
    if (!this.mayDrive()) {
      this.claimed.delete(id);
      this.o.log.info("Migration recorded; the leader adopts it", { migrationId: id, container: record.containerName, to: record.destination });
      return record;
    }
    this.o.log.info("Migration started", { migrationId: id, container: record.containerName, from: record.source, to: record.destination, reason: req.reason });
    this.track(record, () => this.forward(record));
    this.claimed.delete(id);
    return record;
  }

  private mayDrive(): boolean {
    return !this.o.leadership || this.o.leadership.token() !== undefined;
  }

  /** Throws FencedError when leadership was lost (or changed hands) since this migration's drive began. */
  private assertStillDriving(r: MigrationRecord): void {
    if (!this.o.leadership) return;
    const token = this.o.leadership.token();
    if (token === undefined || token !== this.driveTokens.get(r.id)) throw new FencedError(`no longer the leader that drives ${r.id}`);
  }

  /** Migrations this process is driving now. */
  driving(): string[] {
    return [...this.running.keys()];
  }

  /** Waits for a migration this process is driving (tests, CLI follow). */
  async wait(id: string): Promise<MigrationRecord | undefined> {
    return (await this.running.get(id)) ?? this.o.migrations.get(id);
  }

  /** On start: resume or roll back every unfinished migration (see recoveryFor), within a fresh reserve if its bound has passed. */
  async recover(): Promise<void> {
    if (!this.mayDrive()) return;
    for (const r of await this.o.migrations.unfinished()) {
      if (this.running.has(r.id) || this.claimed.has(r.id) || this.settled.has(r.id)) continue;
      // Recorded by a replica (or by a leader that died right after): no command was sent yet, so it simply starts.
      const action = r.state === "running" && r.steps.length === 0 ? "continue-forward" : recoveryFor(r);
      // A bound that passed while no control service ran still leaves time to settle it. Going
      // forward, when less than half a reserve of forward time is left, it gets a reserve's worth
      // again: with none, every forward step would time out before it is sent, and the rollback
      // would remove a destination copy that may already run (losing what it did since the
      // checkpoint).
      const fresh = this.reserveMs(r);
      const now = this.now();
      const forwardLeft = this.deadlineOf(r) - fresh - now;
      const settleBy = action === "continue-forward" && forwardLeft < fresh / 2 ? this.boundLeaving(r, now + fresh) : now + fresh;
      r.deadlineAt = Math.max(r.deadlineAt ?? 0, settleBy);
      this.o.log.warn("Recovering unfinished migration", { migrationId: r.id, step: r.step, action });
      if (action === "continue-forward") this.track(r, () => this.forward(r));
      else if (action === "roll-back" || action === "continue-rollback") {
        this.track(r, () => this.rollback(r, r.error ?? toWire(new ExternalError("control service restarted before the freeze"))));
      }
    }
  }

  private get deadlineMs(): number {
    return this.o.deadlineMs ?? DEFAULT_MIGRATION_DEADLINE_MS;
  }

  /** Time kept for rolling back: see defaultRollbackReserve (or the configured value). */
  private reserveMs(r: MigrationRecord): number {
    if (this.o.rollbackReserveMs !== undefined) return this.o.rollbackReserveMs;
    return defaultRollbackReserve((r.deadlineAt ?? r.createdAt + this.deadlineMs) - r.createdAt);
  }

  /** The earliest bound whose forward part (bound − reserve) lasts until `forwardUntil`. */
  private boundLeaving(r: MigrationRecord, forwardUntil: number): number {
    if (this.o.rollbackReserveMs !== undefined) return forwardUntil + this.o.rollbackReserveMs;
    return r.createdAt + boundWithForward(forwardUntil - r.createdAt);
  }

  private deadlineOf(r: MigrationRecord): number {
    return r.deadlineAt ?? r.createdAt + this.deadlineMs;
  }

  private track(r: MigrationRecord, run: () => Promise<MigrationRecord>): void {
    this.driveTokens.set(r.id, this.o.leadership?.token());
    const p = run()
      .catch(async (err: unknown) => {
        if (err instanceof FencedError) {
          // Deposed: the new leader adopts the migration from what the store holds; nothing more is written from here.
          this.o.log.warn("Stopped driving migration: no longer the leader", { migrationId: r.id, step: r.step });
          return r;
        }
        // Reached only when the store could not be written at the end: keep trying to record
        // what is known, so no migration stays "running" in the store.
        this.o.log.error("Migration could not be recorded as settled", { migrationId: r.id, error: errorMessage(err) });
        if (r.state === "running" || r.state === "rolling-back") {
          r.state = "failed";
          r.error = toWire(err);
          r.whereabouts = whereabouts(r);
        }
        await this.persistEventually(r);
        return r;
      })
      .finally(() => {
        this.running.delete(r.id);
        this.driveTokens.delete(r.id);
        if (r.state !== "running" && r.state !== "rolling-back") {
          this.settled.add(r.id);
          if (this.settled.size > 10_000) this.settled.delete(this.settled.values().next().value ?? "");
        }
      });
    this.running.set(r.id, p);
  }

  private async forward(r: MigrationRecord): Promise<MigrationRecord> {
    const peer = async () => ({ address: await this.addressOf(r.destination), port: this.o.transferPort });
    // Post-copy: the source's cluster address (its page server has no authentication: it is kept
    // on the cluster network, open only during this migration); it serves until the bound.
    const pageServer = async () => ({
      address: await this.addressOf(r.source),
      port: r.pageServerPort ?? PAGE_SERVER_PORTS.from,
      timeoutMs: Math.max(1_000, Math.min(3_600_000, this.deadlineOf(r) - this.now())),
    });
    // Until the destination runs, forward work must leave time to roll back.
    const forwardUntil = () => (restoreSucceeded(r) ? this.deadlineOf(r) : this.deadlineOf(r) - this.reserveMs(r));
    try {
      if (!r.spec) {
        r.spec = await this.step(r, "describe", r.source, "migration.describe", { migrationId: r.id, container: r.containerId }, { until: forwardUntil() });
        await this.save(r);
      }
      const spec = r.spec;
      if (!r.destinationContainerId) {
        let prepared = await this.step(r, "prepare", r.destination, "migration.prepare", { migrationId: r.id, spec }, { until: forwardUntil() });
        if (prepared.needsImage) {
          await this.step(r, "ship-image", r.source, "migration.ship-image", { migrationId: r.id, spec, peer: await peer() }, { until: forwardUntil() });
          prepared = await this.step(r, "prepare", r.destination, "migration.prepare", { migrationId: r.id, spec }, { until: forwardUntil(), attempt: 2 });
        }
        if (prepared.needsImage)
          throw new StepFailed("prepare", toWire(new ExternalError("the destination still lacks the image after it was shipped", { retryable: false })));
        r.destinationContainerId = prepared.containerId;
        await this.save(r);
      }
      const destinationId = r.destinationContainerId;
      if (!r.checkpointName) {
        if (!r.frozen) await this.step(r, "precopy", r.source, "migration.precopy", { migrationId: r.id, spec, peer: await peer() }, { until: forwardUntil() });
        r.frozen = true; // set before sending: if we die mid-freeze, recovery knows the source may be stopped
        await this.save(r);
        const frozen = await this.step(
          r,
          "freeze",
          r.source,
          "migration.freeze",
          { migrationId: r.id, spec, peer: await peer(), ...(r.mode === "post-copy" ? { mode: "post-copy" as const, pageServer: await pageServer() } : {}) },
          { until: forwardUntil() },
        );
        r.checkpointName = frozen.checkpointName;
        r.frozenAt = frozen.frozenAt;
        // Not saved here: the restore step's own save, before its command goes out, records this
        // too (one Redis write less while the container is frozen). Dying in between leaves the
        // same record as dying before this point: the redelivered freeze returns the same images.
      }
      if (!destinationRuns(r)) {
        if (!restoreSucceeded(r)) {
          let runningAt: number | undefined;
          try {
            ({ runningAt } = await this.step(
              r,
              "restore",
              r.destination,
              "migration.restore",
              {
                migrationId: r.id,
                spec,
                containerId: destinationId,
                checkpointName: r.checkpointName,
                ...(r.mode === "post-copy" ? { pageServer: await pageServer() } : {}),
              },
              { until: forwardUntil() },
            ));
          } catch (err) {
            // A restore we did not hear the end of may still have happened (the engine finishes a
            // start its node gave up waiting for). A copy that runs is kept: rolling back would
            // throw away what it has done since the checkpoint.
            if (!(err instanceof StepFailed) || err.wire.code !== "TIMEOUT") throw err;
            const probe = await this.probeDestination(r, destinationId);
            if (!probe) throw err;
            runningAt = probe.runningSince;
          }
          r.runningAt = runningAt;
          if (r.frozenAt !== undefined && runningAt !== undefined) r.frozenMs = Math.max(0, runningAt - r.frozenAt);
          await this.save(r);
        }
        await this.step(
          r,
          "verify",
          r.destination,
          "migration.verify",
          { migrationId: r.id, containerId: destinationId, settleMs: this.o.verifySettleMs ?? 1_000 },
          { until: forwardUntil() },
        );
        if (r.mode === "post-copy") {
          // Until every page is on the destination the source must stay: a transfer that breaks
          // off kills the destination copy (its memory is incomplete) and rolls back to the source.
          const pages = await this.step(
            r,
            "pages",
            r.destination,
            "migration.pages",
            { migrationId: r.id, containerId: destinationId },
            { until: forwardUntil() },
          );
          r.sourceReleasedAt = r.steps.at(-1)?.finishedAt ?? this.now();
          this.o.log.info("Post-copy: every page on the destination", { migrationId: r.id, pages: pages.pages, pulledMs: pages.pulledMs });
          await this.save(r);
        }
        await this.step(
          r,
          "finish",
          r.destination,
          "migration.finish-destination",
          { migrationId: r.id, spec, containerId: destinationId },
          { until: forwardUntil() },
        );
      }
    } catch (err) {
      if (err instanceof FencedError) throw err;
      if (!(err instanceof StepFailed)) this.o.log.error("Migration failed outside a step", { migrationId: r.id, error: errorMessage(err) });
      return this.rollback(r, toWire(err));
    }
    // The destination runs and was checked twice: from here only forward, until the bound.
    try {
      await this.step(
        r,
        "commit",
        r.source,
        "migration.remove-source",
        { migrationId: r.id, spec: r.spec },
        { until: this.deadlineOf(r), retryFailures: true },
      );
    } catch (err) {
      if (err instanceof FencedError) throw err;
      r.error = toWire(err);
      await this.settle(r, "failed");
      this.o.log.error("Migration could not commit within its bound", { migrationId: r.id, whereabouts: r.whereabouts });
      return r;
    }
    await this.settle(r, "committed");
    this.o.log.info("Migration committed", { migrationId: r.id, container: r.containerName, frozenMs: r.frozenMs, totalMs: r.totalMs, bytes: r.bytes });
    return r;
  }

  private async rollback(r: MigrationRecord, cause: WireError): Promise<MigrationRecord> {
    this.o.log.warn("Rolling back migration", { migrationId: r.id, step: r.step, cause: cause.message });
    r.state = "rolling-back";
    r.error = cause;
    await this.save(r);
    const until = Math.max(this.deadlineOf(r), this.now() + Math.min(this.reserveMs(r), 10_000));
    try {
      // The destination copy goes first, so that the source never runs beside it. An engine that
      // does not answer may still run the copy: retried (never skipped) until the bound.
      await this.step(
        r,
        "abort-destination",
        r.destination,
        "migration.abort-destination",
        { migrationId: r.id, ...(r.destinationContainerId ? { containerId: r.destinationContainerId } : {}) },
        { until, retryFailures: true },
      );
      if (r.spec) {
        await this.step(
          r,
          "resume-source",
          r.source,
          "migration.resume-source",
          { migrationId: r.id, spec: r.spec, frozen: r.frozen, ...(r.mode ? { mode: r.mode } : {}) },
          { until, retryFailures: true },
        );
      }
    } catch (err) {
      if (err instanceof FencedError) throw err;
      this.o.log.error("Rollback did not finish within the bound", { migrationId: r.id, error: errorMessage(err) });
      await this.settle(r, "failed");
      return r;
    }
    await this.settle(r, "rolled-back");
    this.o.log.info("Migration rolled back", { migrationId: r.id, container: r.containerName, cause: cause.message });
    return r;
  }

  /**
   * Records the final state. The lock goes first: whoever sees the migration settled may start
   * the next one at once (a crash in between re-runs the idempotent last steps). A failed
   * migration keeps its lock when a second copy cannot be ruled out.
   */
  private async settle(r: MigrationRecord, state: "committed" | "rolled-back" | "failed"): Promise<void> {
    r.state = state;
    r.whereabouts = whereabouts(r);
    if (state !== "failed" || !mayBeDoubled(r)) await this.o.migrations.unlock(r.containerName, r.id);
    r.finishedAt = this.now();
    r.totalMs = r.finishedAt - r.createdAt;
    r.live = undefined;
    await this.save(r);
  }

  /**
   * Sends one step's command and waits for its result, re-sending the same command id while no
   * answer comes (the agent answers duplicates from its journal). Throws StepFailed on a failed
   * result, or when `until` passes; with `retryFailures`, retryable failures are re-run under a
   * new attempt id until then. The command carries the time left, and the agent aborts its work
   * (killing its processes) when that runs out.
   */
  private async step<T extends CommandType>(
    r: MigrationRecord,
    name: StepName,
    node: string,
    type: T,
    payload: CommandPayload<T>,
    opts: StepOptions,
  ): Promise<CommandResultValue<T>> {
    const rec: StepRecord = { name, node, startedAt: this.now() };
    r.step = name;
    r.steps.push(rec);
    await this.save(r);
    let attempt = opts.attempt ?? 1;
    let failures = 0;
    let lastProblem = "no answer";
    for (;;) {
      this.assertStillDriving(r);
      const left = opts.until - this.now();
      if (left <= 0) {
        const err = new TimeoutError(`${name} on ${node} did not complete in time (${lastProblem})`, { retryable: false });
        await this.finishStep(r, rec, false, err.message);
        throw new StepFailed(name, toWire(err));
      }
      const commandId = `${r.id}.${name}.${attempt}`;
      let result: TypedCommandResult<T>;
      try {
        result = await this.o.commands.send(node, type, payload, {
          commandId,
          timeoutMs: Math.min(this.o.resendAfterMs ?? 10_000, left),
          // The node gives up a little before control does, so its answer (and its cleanup) comes first.
          workTimeoutMs: Math.max(1_000, left - 2_000),
          onProgress: (p) => {
            r.live = { step: name, bytes: p.bytes, totalBytes: p.totalBytes, message: p.message, at: p.at };
            void this.o.migrations.save(r).catch(() => undefined);
          },
        });
      } catch (err) {
        if (err instanceof FencedError) throw err;
        if (err instanceof ValidationError) {
          await this.finishStep(r, rec, false, err.message);
          throw new StepFailed(name, toWire(err));
        }
        lastProblem = `no answer from ${node}: ${errorMessage(err)}`;
        rec.resent = (rec.resent ?? 0) + 1;
        this.o.log.warn("No answer yet, re-sending", { migrationId: r.id, step: name, node, commandId });
        await this.save(r).catch((e: unknown) => {
          if (e instanceof FencedError) throw e;
        });
        continue;
      }
      if (result.ok) {
        if (result.startedAt !== undefined) rec.startedAt = result.startedAt;
        const bytes = bytesOf(result.result);
        r.bytes += bytes;
        rec.bytes = bytes;
        r.live = undefined;
        await this.finishStep(r, rec, true, undefined, result.finishedAt);
        return result.result;
      }
      const wire = result.error;
      lastProblem = wire.message;
      if (opts.retryFailures && wire.retryable) {
        failures++;
        this.o.log.warn("Step failed, retrying", { migrationId: r.id, step: name, error: wire.message });
        attempt++;
        await this.sleep(Math.min(5_000, 250 * 2 ** Math.min(failures, 5), Math.max(0, opts.until - this.now())));
        continue;
      }
      await this.finishStep(r, rec, false, wire.message);
      throw new StepFailed(name, wire);
    }
  }

  /** Asks the destination whether its copy runs (after a restore whose answer never came); undefined if it does not or cannot say in time. */
  private async probeDestination(r: MigrationRecord, containerId: string): Promise<{ runningSince?: number } | undefined> {
    const until = Math.min(this.now() + 10_000, this.deadlineOf(r) - Math.round(this.reserveMs(r) / 2));
    try {
      const v = await this.step(r, "verify", r.destination, "migration.verify", { migrationId: r.id, containerId, settleMs: 0 }, { until, attempt: 0 });
      this.o.log.warn("Restore unanswered but the destination copy runs: going forward", { migrationId: r.id });
      return { runningSince: v.runningSince };
    } catch {
      return undefined;
    }
  }

  private async finishStep(r: MigrationRecord, rec: StepRecord, ok: boolean, error?: string, finishedAt = this.now()): Promise<void> {
    rec.finishedAt = finishedAt;
    rec.ok = ok;
    if (error !== undefined) rec.error = error;
    await this.save(r);
  }

  private async addressOf(nodeId: string): Promise<string> {
    const n = await this.o.state.getNode(nodeId);
    if (!n?.address) throw new ExternalError(`node ${nodeId} has not reported its address`, { retryable: false });
    return n.address;
  }

  /** Saves, retrying while the store is away (a Redis restart), up to the migration's bound. */
  private async save(r: MigrationRecord): Promise<void> {
    r.updatedAt = this.now();
    const until = Math.max(this.deadlineOf(r), this.now() + 5_000);
    for (let i = 0; ; i++) {
      this.assertStillDriving(r);
      try {
        await this.o.migrations.save(r);
        return;
      } catch (err) {
        if (err instanceof FencedError || this.now() >= until) throw err;
        if (i === 0) this.o.log.warn("Cannot record migration, retrying", { migrationId: r.id, error: errorMessage(err) });
        await this.sleep(500);
      }
    }
  }

  /** Last resort after the bound: keep trying to record a settled migration for ten minutes. */
  private async persistEventually(r: MigrationRecord): Promise<void> {
    const until = this.now() + 10 * 60_000;
    while (this.now() < until) {
      try {
        this.assertStillDriving(r);
        r.updatedAt = this.now();
        await this.o.migrations.save(r);
        if (r.state !== "failed" || !mayBeDoubled(r)) await this.o.migrations.unlock(r.containerName, r.id);
        return;
      } catch (err) {
        if (err instanceof FencedError) return;
        await this.sleep(2_000);
      }
    }
  }
}

/** A failed migration whose destination copy was created and never confirmed removed: a copy may run there. */
function mayBeDoubled(r: MigrationRecord): boolean {
  const aborted = r.steps.some((s) => s.name === "abort-destination" && s.ok === true);
  return r.state === "failed" && !destinationRuns(r) && r.destinationContainerId !== undefined && !aborted;
}

/** Sums the byte counts a step reports (a sync report, or the final sync inside a freeze). */
function bytesOf(result: unknown): number {
  if (!result || typeof result !== "object") return 0;
  let total = 0;
  if ("bytes" in result && typeof result.bytes === "number") total += result.bytes;
  if (
    "finalSync" in result &&
    result.finalSync &&
    typeof result.finalSync === "object" &&
    "bytes" in result.finalSync &&
    typeof result.finalSync.bytes === "number"
  ) {
    total += result.finalSync.bytes;
  }
  return total;
}

const mib = (b: number) => Math.round(b / 1024 / 1024);
