import { access, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ExternalError, NotFoundError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";
import type { Checkpointer, LazyRestore, PageServerEndpoint } from "./checkpointer.js";
import type { AddressAnnouncer } from "./address-announcer.js";
import type { ContainerRuntime } from "./container-runtime.js";
import type { ContainerSpec } from "./container-spec.js";
import type { ImageCache } from "./image-cache.js";
import { IMAGE_ARCHIVE_NAME, migrationLayout } from "./migration-layout.js";
import { checkpointNameFor } from "./source-migration-steps.js";

export interface DestinationStepsOptions {
  runtime: ContainerRuntime;
  checkpointer: Checkpointer;
  images: ImageCache;
  /**
   * The RsyncDaemon's module root. Put it INSIDE the engine's data root (e.g.
   * /var/lib/docker/herd-staging): dockerd bind-mounts its root onto itself, so only from inside
   * is installing a rename; from anywhere else every piece is copied while the source is frozen.
   */
  stagingDir: string;
  log: Logger;
  now?: () => number;
  run?: ProcessRunner;
  /** Announces a kept address at its new place after a restore (containers with a static address). */
  announcer?: AddressAnnouncer;
}

export interface InstallReport {
  durationMs: number;
  /** Pieces moved by rename (cheap) and pieces that had to be copied (staging on another mount). */
  renamed: string[];
  copied: string[];
}

/** Replaces `target` with `source`: a rename on one filesystem, a copy otherwise. */
async function replaceDir(source: string, target: string, run: ProcessRunner, signal?: AbortSignal): Promise<boolean> {
  await rm(target, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  try {
    await rename(source, target);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
  }
  const cp = await run("cp", ["-a", "--", source, target], { timeoutMs: 10 * 60_000, signal });
  if (cp.code !== 0) throw new ExternalError(`cp -a ${source} ${target}: ${cp.stderr.trim()}`);
  await rm(source, { recursive: true, force: true });
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The destination node's half of a live migration: prepare (image + container) → [source
 * pre-copies and freezes into the staging area] → install the staged files into the new
 * container → restore. `abort` undoes everything here.
 */
export class DestinationMigrationSteps {
  private readonly now: () => number;

  constructor(private readonly o: DestinationStepsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** True if the image is already here: the source can skip shipping it. */
  hasImage(imageId: string): Promise<boolean> {
    return this.o.images.hasImage(imageId);
  }

  /**
   * Loads the shipped image if needed and creates (not starts) the container with the source's
   * config. Idempotent: a created, not-running container of the same name is reused.
   */
  async prepare(spec: ContainerSpec): Promise<ContainerSpec> {
    if (!(await this.o.images.hasImage(spec.imageId))) {
      const archive = join(this.o.stagingDir, migrationLayout.image(spec.imageId), IMAGE_ARCHIVE_NAME);
      if (!(await exists(archive))) throw new NotFoundError(`image ${spec.image} (${spec.imageId}) is neither loaded nor staged at ${archive}`);
      await this.o.images.importImage(archive);
    }
    try {
      const existing = await this.o.runtime.inspect(spec.name);
      if (!existing.state.running && existing.imageId === spec.imageId) {
        this.o.log.info("Reusing prepared container", { containerId: existing.id, containerName: spec.name });
        return existing;
      }
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    return this.o.runtime.createFromSpec(spec);
  }

  /**
   * Moves the staged writable layer, volumes and checkpoint images into the prepared container.
   * Runs while the source is frozen, so it must be cheap: a rename when staging shares the data
   * root's filesystem.
   */
  async install(source: ContainerSpec, target: ContainerSpec, migrationId: string, signal?: AbortSignal): Promise<InstallReport> {
    const t0 = this.now();
    const renamed: string[] = [];
    const copied: string[] = [];
    const put = async (piece: string, from: string, to: string) =>
      ((await replaceDir(from, to, this.o.run ?? runProcess, signal)) ? copied : renamed).push(piece);
    const staged = (p: string) => join(this.o.stagingDir, p);
    this.o.log.debug("Installing staged files", { containerId: target.id, migrationId });
    if (source.upperDir) {
      if (!target.upperDir) throw new ExternalError(`container ${target.id} has no overlay upper dir to restore the writable layer into`, { retryable: false });
      await put("upper", staged(migrationLayout.upper(migrationId)), target.upperDir);
    }
    for (const m of source.mounts) {
      if (m.kind !== "volume") continue;
      const dataDir = await this.o.runtime.volumeDataDir(m.name);
      await put(`volume:${m.name}`, staged(migrationLayout.volume(migrationId, m.name)), dataDir);
    }
    const imageDir = await this.o.checkpointer.imageDir(target.id, checkpointNameFor(migrationId));
    await put("checkpoint", staged(migrationLayout.checkpoint(migrationId)), imageDir);
    const durationMs = this.now() - t0;
    this.o.log.debug("Installed staged files", { containerId: target.id, migrationId, durationMs, renamed, copied });
    return { durationMs, renamed, copied };
  }

  /** Starts the container from the installed checkpoint and checks it is running. */
  async restore(target: ContainerSpec, migrationId: string, signal?: AbortSignal): Promise<{ durationMs: number; runningAt: number }> {
    const r = await this.o.checkpointer.restore(target.id, checkpointNameFor(migrationId), { signal });
    const after = await this.o.runtime.inspect(target.id);
    if (!after.state.running) {
      throw new ExternalError(`container ${target.id} is ${after.state.status} right after restore`, { retryable: false });
    }
    if (after.ipv4Address && this.o.announcer) await this.o.announcer.announce(after.state.pid, after.ipv4Address);
    return { durationMs: r.durationMs, runningAt: after.state.startedAt ?? this.now() };
  }

  /**
   * Post-copy restore: the container runs at once and pulls its memory from the source's page
   * server; `pulled` settles when every page is here (or the container was killed because the
   * transfer broke off: see DockerCheckpointer.restoreLazy).
   */
  async restoreLazy(
    target: ContainerSpec,
    migrationId: string,
    o: { pageServer: PageServerEndpoint; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ durationMs: number; runningAt: number } & Omit<LazyRestore, "durationMs">> {
    if (!this.o.checkpointer.restoreLazy) throw new ExternalError("this node's checkpointer cannot restore with lazy pages", { retryable: false });
    const r = await this.o.checkpointer.restoreLazy(target.id, checkpointNameFor(migrationId), o);
    const after = await this.o.runtime.inspect(target.id);
    if (!after.state.running) {
      r.abort();
      throw new ExternalError(`container ${target.id} is ${after.state.status} right after its post-copy restore`, { retryable: false });
    }
    if (after.ipv4Address && this.o.announcer) await this.o.announcer.announce(after.state.pid, after.ipv4Address);
    return { ...r, runningAt: after.state.startedAt ?? this.now() };
  }

  /**
   * After an agent restart during post-copy: whether the restored copy got every page before its
   * lazy-pages daemon went away (CRIU's final "UFFD transferred pages: (n/n)" in the daemon's log,
   * which outlives the agent) and still runs. Then it is the only complete copy: the source stopped
   * once it had served the last page.
   */
  async pagesCompleteAfterRestart(containerId: string, migrationId: string): Promise<{ pages: number } | undefined> {
    const record = await this.o.checkpointer.lazyPagesRecord?.(containerId, checkpointNameFor(migrationId)).catch(() => undefined);
    if (!record?.complete) return undefined;
    const now = await this.o.runtime.inspect(containerId).catch(() => undefined);
    return now?.state.running ? { pages: record.totalPages } : undefined;
  }

  /** Removes what this migration left here (the container is only removed if it is not running). */
  async cleanup(migrationId: string, target?: ContainerSpec, opts: { removeContainer?: boolean } = {}): Promise<void> {
    const failures: unknown[] = [];
    // Every cleanup runs even if one fails.
    if (target && opts.removeContainer) {
      await this.o.runtime.remove(target.id, { force: true }).catch((e: unknown) => failures.push(e));
    }
    await rm(join(this.o.stagingDir, migrationLayout.root(migrationId)), { recursive: true, force: true }).catch((e: unknown) => failures.push(e));
    if (target) await this.o.checkpointer.remove(target.id, checkpointNameFor(migrationId)).catch((e: unknown) => failures.push(e));
    if (failures.length) throw new ExternalError(`cleanup of migration ${migrationId} was incomplete`, { cause: failures[0] });
  }
}
