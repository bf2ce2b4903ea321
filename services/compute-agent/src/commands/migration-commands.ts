import type Dockerode from "dockerode";
import { ExternalError, NotFoundError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { ContainerRuntime } from "../runtime/container-runtime.js";
import type { ContainerSpec } from "../runtime/container-spec.js";
import type { DestinationMigrationSteps } from "../runtime/destination-migration-steps.js";
import { checkpointNameFor, type SourceMigrationSteps } from "../runtime/source-migration-steps.js";
import type { CommandContext, CommandHandlers } from "./command-processor.js";
import type { TransferProgress } from "../runtime/file-transfer.js";

/** Label put on a destination container while its migration is in flight. */
export const MIGRATION_LABEL = "herd.migration";

/** The few engine operations the handlers need beyond the runtime interface. */
export interface MigrationEngineOps {
  /** Ids of containers (any state) carrying `label=value`. */
  findByLabel(label: string, value: string): Promise<string[]>;
  setRestartPolicy(containerId: string, policy: ContainerSpec["restartPolicy"]): Promise<void>;
  /** False when the engine does not answer (then none of its containers can run). */
  ping(): Promise<boolean>;
}

export class DockerMigrationEngineOps implements MigrationEngineOps {
  constructor(private readonly docker: Dockerode) {}
  async findByLabel(label: string, value: string): Promise<string[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${label}=${value}`] } });
    return list.map((c) => c.Id);
  }
  async setRestartPolicy(containerId: string, policy: ContainerSpec["restartPolicy"]): Promise<void> {
    await this.docker.getContainer(containerId).update({ RestartPolicy: { Name: policy.name, MaximumRetryCount: policy.maximumRetryCount } });
  }
  async ping(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }
}

export interface MigrationHandlerDeps {
  source: SourceMigrationSteps;
  destination: DestinationMigrationSteps;
  runtime: ContainerRuntime;
  engine: MigrationEngineOps;
  log: Logger;
}

/** Forwards rsync's progress as command progress, at most every 250 ms (the broker is not a firehose). */
function progressOf(ctx: CommandContext, step: string): (p: TransferProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 250) return;
    last = now;
    ctx.progress(step, { bytes: p.bytes, message: `${p.percent}%` });
  };
}
const noRestart = (p: ContainerSpec["restartPolicy"]) => p.name === "" || p.name === "no";

/**
 * The agent's half of the migration saga: one handler per step. Each is idempotent, because the
 * orchestrator re-sends a step (same command id) when it gets no answer, and a restarted agent
 * sees unacknowledged commands again.
 */
export function migrationCommandHandlers(d: MigrationHandlerDeps): CommandHandlers {
  const abortOnEngine = async (migrationId: string, containerId?: string) => {
    const ids = new Set(await d.engine.findByLabel(MIGRATION_LABEL, migrationId));
    if (containerId) ids.add(containerId);
    for (const id of ids) await d.runtime.remove(id, { force: true });
    await d.destination.cleanup(migrationId).catch((err: unknown) => d.log.warn("Staging cleanup incomplete", { migrationId, error: errorMessage(err) }));
    return { removed: [...ids] };
  };

  return {
    "migration.describe": async (p) => d.source.describe(p.container),

    "migration.prepare": async (p) => {
      const spec = p.spec;
      try {
        // Created with no restart policy: an engine restart must never start this copy while the
        // source may still run. The real policy is applied in finish-destination.
        const created = await d.destination.prepare({
          ...spec,
          labels: { ...spec.labels, [MIGRATION_LABEL]: p.migrationId },
          restartPolicy: noRestart(spec.restartPolicy) ? spec.restartPolicy : { name: "no", maximumRetryCount: 0 },
        });
        return { containerId: created.id, needsImage: false as const };
      } catch (err) {
        if (err instanceof NotFoundError && /neither loaded nor staged/.test(err.message)) return { needsImage: true as const };
        throw err;
      }
    },

    "migration.ship-image": async (p, ctx) => d.source.shipImage(p.spec, p.peer, progressOf(ctx, "ship-image"), ctx.signal),

    "migration.precopy": async (p, ctx) => d.source.preCopy(p.spec, p.migrationId, p.peer, progressOf(ctx, "precopy"), ctx.signal),

    "migration.freeze": async (p, ctx) => d.source.freeze(p.spec, p.migrationId, p.peer, progressOf(ctx, "freeze"), ctx.signal),

    "migration.restore": async (p, ctx) => {
      const target = await d.runtime.inspect(p.containerId);
      // Asked again after it happened (a new attempt id): the engine's start time is when it began running.
      if (target.state.running) return { installMs: 0, restoreMs: 0, runningAt: target.state.startedAt ?? Date.now(), already: true };
      const installed = await d.destination.install(p.spec, target, p.migrationId, ctx.signal);
      const restored = await d.destination.restore(target, p.migrationId, ctx.signal);
      return { installMs: installed.durationMs, restoreMs: restored.durationMs, runningAt: restored.runningAt, already: false };
    },

    "migration.verify": async (p) => {
      // Running right after the restore is not enough: an engine going down, or a process
      // that dies on its first instructions, shows only a moment later.
      const first = await d.runtime.inspect(p.containerId);
      if (!first.state.running) throw new ExternalError(`destination copy is ${first.state.status} right after restore`, { retryable: false });
      await new Promise((r) => setTimeout(r, p.settleMs));
      if (!(await d.engine.ping())) throw new ExternalError("destination engine stopped answering after the restore", { retryable: false });
      const after = await d.runtime.inspect(p.containerId);
      if (!after.state.running) throw new ExternalError(`destination copy is ${after.state.status} ${p.settleMs} ms after restore`, { retryable: false });
      return {
        running: true as const,
        pid: after.state.pid,
        ...(after.state.startedAt !== undefined ? { runningSince: Math.round(after.state.startedAt) } : {}),
      };
    },

    "migration.finish-destination": async (p) => {
      const spec = p.spec;
      const now = await d.runtime.inspect(p.containerId);
      if (!now.state.running) throw new ExternalError(`destination copy is ${now.state.status}; not committing`, { retryable: false });
      if (!noRestart(spec.restartPolicy)) await d.engine.setRestartPolicy(p.containerId, spec.restartPolicy);
      const target = await d.runtime.inspect(p.containerId);
      await d.destination
        .cleanup(p.migrationId, target)
        .catch((err: unknown) => d.log.warn("Staging cleanup incomplete", { migrationId: p.migrationId, error: errorMessage(err) }));
      return { containerId: p.containerId };
    },

    "migration.remove-source": async (p) => {
      await d.source.removeSource(p.spec, p.migrationId);
      return { removed: p.spec.id };
    },

    "migration.abort-destination": async (p) => {
      // An engine that does not answer may still have the copy running under its shim, so the
      // source must stay frozen: the orchestrator retries until the engine is back and the copy
      // is gone. Never two copies, even if that costs time.
      if (!(await d.engine.ping())) {
        throw new ExternalError("destination engine is not answering; its copy cannot be confirmed gone yet", { retryable: true });
      }
      return abortOnEngine(p.migrationId, p.containerId);
    },

    "migration.resume-source": async (p, ctx) => {
      const spec = p.spec;
      let current: ContainerSpec;
      try {
        current = await d.runtime.inspect(spec.id);
      } catch (err) {
        if (err instanceof NotFoundError) throw new ExternalError(`source container ${spec.name} is gone; cannot resume`, { retryable: false });
        throw err;
      }
      if (current.state.running) {
        // Running as far as the engine knows, but a dump killed mid-way may have left it frozen.
        await d.source.release(spec);
        return { resumed: false, running: true as const, fromCheckpoint: null };
      }
      if (p.frozen) {
        try {
          await d.source.resume(spec, p.migrationId, ctx.signal);
          return { resumed: true, running: true as const, fromCheckpoint: checkpointNameFor(p.migrationId) };
        } catch (err) {
          // No usable checkpoint (the dump failed before completing): start it plainly rather
          // than leave it stopped. Its memory state is lost, but the container is not.
          d.log.error("Resume from checkpoint failed, starting the container fresh", { containerId: spec.id, error: errorMessage(err) });
        }
      }
      await d.runtime.start(spec.id);
      return { resumed: true, running: true as const, fromCheckpoint: null };
    },
  };
}
