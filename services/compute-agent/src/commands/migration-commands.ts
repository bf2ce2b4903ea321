import type Dockerode from "dockerode";
import { ExternalError, NotFoundError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { ContainerRuntime } from "../runtime/container-runtime.js";
import type { ContainerSpec } from "../runtime/container-spec.js";
import type { DestinationMigrationSteps } from "../runtime/destination-migration-steps.js";
import { checkpointNameFor, type SourceMigrationSteps } from "../runtime/source-migration-steps.js";
import type { CommandContext, CommandHandlers } from "./command-processor.js";
import type { TransferProgress } from "../runtime/file-transfer.js";
import type { LazyRestore, PageTransferOutcome } from "../runtime/checkpointer.js";
import type { FreezeReport } from "../runtime/source-migration-steps.js";

/** A post-copy source: its page server serving until the destination has every page. */
interface ServingSource {
  report: FreezeReport;
  served: Promise<PageTransferOutcome>;
  abort(): void;
}

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
  // Post-copy transfers in flight, by migration id (the processes are the checkpointer's; these
  // are the handles to wait for and kill them). Lost with the agent: see "migration.pages".
  const serving = new Map<string, ServingSource>();
  const pulling = new Map<string, LazyRestore & { startedAt: number }>();
  const stopServing = async (migrationId: string) => {
    const s = serving.get(migrationId);
    if (!s) return;
    s.abort();
    await s.served;
    serving.delete(migrationId);
  };
  const abortOnEngine = async (migrationId: string, containerId?: string) => {
    const pull = pulling.get(migrationId);
    if (pull) {
      pull.abort();
      await pull.pulled;
      pulling.delete(migrationId);
    }
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

    "migration.freeze": async (p, ctx) => {
      if (p.mode !== "post-copy") return d.source.freeze(p.spec, p.migrationId, p.peer, progressOf(ctx, "freeze"), ctx.signal);
      if (!p.pageServer) throw new ExternalError("post-copy freeze without a page server address", { retryable: false });
      const running = serving.get(p.migrationId);
      if (running) return running.report;
      const frozen = await d.source.freezeLazy(p.spec, p.migrationId, p.peer, {
        pageServer: { address: p.pageServer.address, port: p.pageServer.port },
        timeoutMs: p.pageServer.timeoutMs,
        onProgress: progressOf(ctx, "freeze"),
        signal: ctx.signal,
      });
      const { served, abort, ...report } = frozen;
      serving.set(p.migrationId, { report, served, abort });
      void served.then((o) => d.log[o.ok ? "info" : "warn"]("Post-copy page server ended", { migrationId: p.migrationId, ...o }));
      return report;
    },

    "migration.restore": async (p, ctx) => {
      const target = await d.runtime.inspect(p.containerId);
      // Asked again after it happened (a new attempt id): the engine's start time is when it began running.
      if (target.state.running) return { installMs: 0, restoreMs: 0, runningAt: target.state.startedAt ?? Date.now(), already: true };
      const installed = await d.destination.install(p.spec, target, p.migrationId, ctx.signal);
      if (p.pageServer) {
        const t0 = Date.now();
        const lazy = await d.destination.restoreLazy(target, p.migrationId, {
          pageServer: { address: p.pageServer.address, port: p.pageServer.port },
          timeoutMs: p.pageServer.timeoutMs,
          signal: ctx.signal,
        });
        pulling.set(p.migrationId, { ...lazy, startedAt: t0 });
        return { installMs: installed.durationMs, restoreMs: lazy.durationMs, runningAt: lazy.runningAt, already: false };
      }
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

    "migration.pages": async (p, ctx) => {
      const pull = pulling.get(p.migrationId);
      if (!pull) {
        // This agent did not start the transfer (it restarted since). If the daemon's log says
        // every page arrived, the copy here is complete (and the only one: the source stopped after
        // serving the last page); otherwise a copy that may hold zero-filled pages must not be kept.
        const done = await d.destination.pagesCompleteAfterRestart(p.containerId, p.migrationId).catch(() => undefined);
        if (done) {
          d.log.info("Post-copy: every page had arrived before this agent restarted", { migrationId: p.migrationId, pages: done.pages });
          return { pages: done.pages, pulledMs: 0, bytes: done.pages * 4096 };
        }
        await d.runtime.remove(p.containerId, { force: true }).catch(() => undefined);
        throw new ExternalError("no page transfer is known on this node (its agent restarted during post-copy); the destination copy was removed", {
          retryable: false,
        });
      }
      const timer = setInterval(() => {
        // Progress is best effort: a log that cannot be read now must not become an unhandled rejection (the agent would exit).
        void pull
          .progress()
          .then((g) =>
            ctx.progress("pages", {
              bytes: g.transferredPages * 4096,
              totalBytes: g.totalPages * 4096,
              message: `${Math.max(0, g.totalPages - g.transferredPages)} of ${g.totalPages} pages left`,
            }),
          )
          .catch(() => undefined);
      }, 500);
      try {
        const outcome = await pull.pulled;
        if (!outcome.ok) throw new ExternalError(outcome.detail, { retryable: false });
        const g = await pull.progress();
        return { pages: g.totalPages, pulledMs: Date.now() - pull.startedAt, bytes: g.totalPages * 4096 };
      } finally {
        clearInterval(timer);
      }
    },

    "migration.finish-destination": async (p) => {
      const spec = p.spec;
      pulling.delete(p.migrationId);
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
      // Post-copy: the page server has ended by now (the destination had every page); wait for
      // runc to have stopped the container rather than kill it under a last page.
      const s = serving.get(p.migrationId);
      if (s) {
        await s.served;
        serving.delete(p.migrationId);
      }
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
      // Post-copy: the page server lets go of the frozen container, which then runs on (CRIU
      // resumes it, or the agent thaws it).
      await stopServing(p.migrationId);
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
      // A post-copy checkpoint holds no memory: it cannot bring the container back.
      if (p.frozen && p.mode !== "post-copy") {
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
