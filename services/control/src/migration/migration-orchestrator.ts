import { randomBytes } from "node:crypto";
import type { CommandPayload, CommandResult, CommandType } from "../../../../shared/src/contracts/index.js";
import {
  ConflictError,
  ExternalError,
  HerdError,
  NotFoundError,
  ValidationError,
  errorMessage,
  toWire,
  type WireError,
} from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { CommandClient } from "../commands/command-client.js";
import { nodeStatus } from "../registry/node-liveness.js";
import type { ContainerRecord, NodeRecord, StateStore } from "../state/state-store.js";
import { destinationRuns, recoveryFor, type MigrationRecord, type StepName } from "./migration-record.js";
import type { MigrationStore } from "./migration-store.js";

export interface MigrationRequest {
  container: string;
  to: string;
}

export interface MigrationCheck {
  container: ContainerRecord;
  source: NodeRecord;
  destination: NodeRecord;
  memoryBytes: number;
}

export interface DryRunReport {
  wouldMigrate: boolean;
  container: string;
  source?: string;
  destination: string;
  reasons: string[];
  steps: string[];
}

export interface MigrationOrchestratorOptions {
  state: StateStore;
  migrations: MigrationStore;
  commands: CommandClient;
  log: Logger;
  downAfterMs: number;
  /** Port of every node's transfer (rsync) daemon. */
  transferPort: number;
  /** How long one step may take before the migration gives up on it (re-sending meanwhile). */
  stepDeadlineMs?: number;
  /** How long to wait for one answer before re-sending the same (idempotent) command. */
  resendAfterMs?: number;
  /** Headroom the destination must keep besides the container's memory. */
  memoryHeadroomBytes?: number;
  now?: () => number;
}

/** A step whose command came back failed; carries the node's error as data. */
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

/**
 * Runs live migrations as sagas persisted in the migration store, driven by durable commands to
 * the two agents. Invariants: before `restore` succeeds the source copy is the only one (it is
 * stopped by the freeze, restarted only after the destination copy is removed); after it, the
 * saga only goes forward. Every command id is derived from the migration and the step, so a
 * restarted control service can re-send and get the same answer without repeating work.
 */
export class MigrationOrchestrator {
  private readonly now: () => number;
  private readonly running = new Map<string, Promise<MigrationRecord>>();

  constructor(private readonly o: MigrationOrchestratorOptions) {
    this.now = o.now ?? Date.now;
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
    return { container, source, destination, memoryBytes };
  }

  /** What would happen and why it would be refused; asks the source to inspect, changes nothing. */
  async dryRun(req: MigrationRequest): Promise<DryRunReport> {
    const report: DryRunReport = { wouldMigrate: false, container: req.container, destination: req.to, reasons: [], steps: FORWARD_DESCRIPTION };
    let check: MigrationCheck;
    try {
      check = await this.check(req);
    } catch (err) {
      report.reasons.push(errorMessage(err));
      return report;
    }
    report.source = check.source.id;
    const id = `dry-${randomBytes(4).toString("hex")}`;
    const r = await this.o.commands.send(check.source.id, "migration.describe", { migrationId: id, container: check.container.id }, { timeoutMs: 30_000 });
    if (!r.ok) report.reasons.push(r.error?.message ?? "the source refused");
    report.wouldMigrate = report.reasons.length === 0;
    return report;
  }

  /** Validates, records and starts a migration; resolves once it is recorded (it runs on). */
  async start(req: MigrationRequest): Promise<MigrationRecord> {
    const check = await this.check(req);
    const t = this.now();
    const id = `m${t.toString(36)}${randomBytes(3).toString("hex")}`;
    if (!(await this.o.migrations.lock(check.container.name, id))) {
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
      frozen: false,
      bytes: 0,
    };
    await this.o.migrations.save(record);
    this.o.log.info("Migration started", { migrationId: id, container: record.containerName, from: record.source, to: record.destination });
    this.track(record, () => this.forward(record));
    return record;
  }

  /** Waits for a migration this process is driving (tests, CLI follow). */
  async wait(id: string): Promise<MigrationRecord | undefined> {
    return (await this.running.get(id)) ?? this.o.migrations.get(id);
  }

  /** On start: resume or roll back every unfinished migration (see recoveryFor). */
  async recover(): Promise<void> {
    for (const r of await this.o.migrations.unfinished()) {
      if (this.running.has(r.id)) continue;
      const action = recoveryFor(r);
      this.o.log.warn("Recovering unfinished migration", { migrationId: r.id, step: r.step, action });
      if (action === "continue-forward") this.track(r, () => this.forward(r));
      else if (action === "roll-back" || action === "continue-rollback") {
        this.track(r, () => this.rollback(r, r.error ?? toWire(new ExternalError("control service restarted before the freeze"))));
      }
    }
  }

  private track(r: MigrationRecord, run: () => Promise<MigrationRecord>): void {
    const p = run()
      .catch(async (err: unknown) => {
        // Only reached if a rollback itself could not finish: the record says so, the lock stays.
        this.o.log.error("Migration could not be settled", { migrationId: r.id, error: errorMessage(err) });
        r.state = "failed";
        r.error = toWire(err);
        await this.save(r);
        return r;
      })
      .finally(() => this.running.delete(r.id));
    this.running.set(r.id, p);
  }

  private async forward(r: MigrationRecord): Promise<MigrationRecord> {
    const peer = async () => ({ address: await this.addressOf(r.destination), port: this.o.transferPort });
    try {
      if (!r.spec) {
        const described = await this.step(r, "describe", r.source, "migration.describe", { migrationId: r.id, container: r.containerId });
        r.spec = described as MigrationRecord["spec"];
      }
      const spec = r.spec!;
      if (!r.destinationContainerId) {
        let prepared = (await this.step(r, "prepare", r.destination, "migration.prepare", { migrationId: r.id, spec })) as {
          containerId?: string;
          needsImage?: boolean;
        };
        if (prepared.needsImage) {
          await this.step(r, "ship-image", r.source, "migration.ship-image", { migrationId: r.id, spec, peer: await peer() });
          prepared = (await this.step(r, "prepare", r.destination, "migration.prepare", { migrationId: r.id, spec }, 2)) as typeof prepared;
        }
        if (!prepared.containerId) throw new StepFailed("prepare", toWire(new ExternalError("destination did not create the container", { retryable: false })));
        r.destinationContainerId = prepared.containerId;
        await this.save(r);
      }
      if (!r.frozen) {
        await this.step(r, "precopy", r.source, "migration.precopy", { migrationId: r.id, spec, peer: await peer() });
        r.frozen = true; // set before sending: if we die mid-freeze, recovery knows the source may be stopped
        r.frozenAt = r.frozenAt ?? this.now();
        await this.save(r);
        const frozen = (await this.step(r, "freeze", r.source, "migration.freeze", { migrationId: r.id, spec, peer: await peer() })) as {
          checkpointName: string;
        };
        r.checkpointName = frozen.checkpointName;
        await this.save(r);
      }
      if (!destinationRuns(r)) {
        if (!r.checkpointName) {
          const again = (await this.step(r, "freeze", r.source, "migration.freeze", { migrationId: r.id, spec, peer: await peer() })) as {
            checkpointName: string;
          };
          r.checkpointName = again.checkpointName;
        }
        if (!r.steps.some((s) => s.name === "restore" && s.ok)) {
          await this.step(r, "restore", r.destination, "migration.restore", {
            migrationId: r.id,
            spec,
            containerId: r.destinationContainerId!,
            checkpointName: r.checkpointName,
          });
          r.frozenMs = this.now() - (r.frozenAt ?? this.now());
          await this.save(r);
        }
        await this.step(r, "verify", r.destination, "migration.verify", { migrationId: r.id, containerId: r.destinationContainerId!, settleMs: 1_000 });
        await this.step(r, "finish", r.destination, "migration.finish-destination", { migrationId: r.id, spec, containerId: r.destinationContainerId! });
      }
    } catch (err) {
      return this.rollback(r, toWire(err));
    }
    // The destination runs and was checked twice: from here only forward, retrying until the source answers.
    await this.step(r, "commit", r.source, "migration.remove-source", { migrationId: r.id, spec: r.spec! }, 1, Infinity);
    await this.settle(r, "committed");
    this.o.log.info("Migration committed", { migrationId: r.id, container: r.containerName, frozenMs: r.frozenMs, totalMs: r.totalMs, bytes: r.bytes });
    return r;
  }

  private async rollback(r: MigrationRecord, cause: WireError): Promise<MigrationRecord> {
    this.o.log.warn("Rolling back migration", { migrationId: r.id, step: r.step, cause: cause.message });
    r.state = "rolling-back";
    r.error = cause;
    await this.save(r);
    // The destination copy goes first, so that the source never runs beside it. Retried until
    // the destination answers: a node that is away keeps the command in its durable queue.
    await this.step(
      r,
      "abort-destination",
      r.destination,
      "migration.abort-destination",
      { migrationId: r.id, containerId: r.destinationContainerId },
      1,
      Infinity,
    );
    if (r.spec) {
      await this.step(r, "resume-source", r.source, "migration.resume-source", { migrationId: r.id, spec: r.spec, frozen: r.frozen }, 1, Infinity);
    }
    await this.settle(r, "rolled-back");
    this.o.log.info("Migration rolled back", { migrationId: r.id, container: r.containerName, cause: cause.message });
    return r;
  }

  /**
   * Records the final state. The lock goes first: whoever sees the migration settled may start
   * the next one at once. (A crash in between re-runs the idempotent last steps.)
   */
  private async settle(r: MigrationRecord, state: "committed" | "rolled-back"): Promise<void> {
    await this.o.migrations.unlock(r.containerName, r.id);
    r.state = state;
    r.finishedAt = this.now();
    r.totalMs = r.finishedAt - r.createdAt;
    r.live = undefined;
    await this.save(r);
  }

  /**
   * Sends one step's command and waits for its result, re-sending the same command id while no
   * answer comes (the agent answers duplicates from its record). A failed result throws
   * StepFailed; `retryFailures` (Infinity for steps that must eventually happen) re-runs a
   * retryable failure under a new attempt id.
   */
  private async step<T extends CommandType>(
    r: MigrationRecord,
    name: StepName,
    node: string,
    type: T,
    payload: CommandPayload<T>,
    attempt = 1,
    retryFailures = 0,
  ): Promise<unknown> {
    const deadline = this.now() + (this.o.stepDeadlineMs ?? 10 * 60_000);
    const rec = { name, node, startedAt: this.now() } as MigrationRecord["steps"][number];
    r.step = name;
    r.steps.push(rec);
    await this.save(r);
    let failures = 0;
    for (;;) {
      const commandId = `${r.id}.${name}.${attempt}`;
      let result: CommandResult | undefined;
      try {
        result = await this.o.commands.send(node, type, payload, {
          commandId,
          timeoutMs: this.o.resendAfterMs ?? 30_000,
          onProgress: (p) => {
            r.live = { step: name, bytes: p.bytes, totalBytes: p.totalBytes, message: p.message, at: p.at };
            void this.save(r).catch(() => undefined);
          },
        });
      } catch (err) {
        if (err instanceof ValidationError) throw new StepFailed(name, toWire(err));
        if (retryFailures !== Infinity && this.now() > deadline) {
          rec.finishedAt = this.now();
          rec.ok = false;
          rec.error = `no answer from ${node}: ${errorMessage(err)}`;
          await this.save(r);
          throw new StepFailed(name, toWire(new ExternalError(rec.error)));
        }
        this.o.log.warn("No answer yet, re-sending", { migrationId: r.id, step: name, node, commandId });
        continue;
      }
      if (result.ok) {
        const bytes = bytesOf(result.result);
        rec.finishedAt = this.now();
        rec.ok = true;
        rec.bytes = bytes;
        r.bytes += bytes;
        r.live = undefined;
        await this.save(r);
        return result.result;
      }
      const wire = result.error ?? toWire(new ExternalError("unknown failure"));
      if (wire.retryable && failures++ < retryFailures) {
        this.o.log.warn("Step failed, retrying", { migrationId: r.id, step: name, error: wire.message });
        attempt++;
        await delay(Math.min(5_000, 250 * 2 ** Math.min(failures, 5)));
        continue;
      }
      rec.finishedAt = this.now();
      rec.ok = false;
      rec.error = wire.message;
      await this.save(r);
      throw new StepFailed(name, wire);
    }
  }

  private async addressOf(nodeId: string): Promise<string> {
    const n = await this.o.state.getNode(nodeId);
    if (!n?.address) throw new ExternalError(`node ${nodeId} has not reported its address`, { retryable: false });
    return n.address;
  }

  private async save(r: MigrationRecord): Promise<void> {
    r.updatedAt = this.now();
    await this.o.migrations.save(r);
  }
}

/** Sums the byte counts a step reports (SyncReport.bytes, or a finalSync inside a freeze). */
function bytesOf(result: unknown): number {
  if (!result || typeof result !== "object") return 0;
  const o = result as { bytes?: unknown; finalSync?: { bytes?: unknown } };
  return (typeof o.bytes === "number" ? o.bytes : 0) + (typeof o.finalSync?.bytes === "number" ? o.finalSync.bytes : 0);
}

const mib = (b: number) => Math.round(b / 1024 / 1024);
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
