import { join } from "node:path";
import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { checkMigratable } from "./check-migratable.js";
import { connectedTcp, connectionRefusals, type TcpConnection } from "./open-connections.js";
import { containerProcesses, identityRefusals, ownIdentity, type ProcessIdentity } from "./process-identity.js";
import type { Checkpointer, PageServerEndpoint, PageTransferOutcome } from "./checkpointer.js";
import type { AddressAnnouncer } from "./address-announcer.js";
import type { ContainerRuntime } from "./container-runtime.js";
import type { ContainerSpec } from "./container-spec.js";
import type { FileTransfer, TransferOptions, TransferProgress, TransferStats } from "./file-transfer.js";
import type { ImageCache } from "./image-cache.js";
import { IMAGE_ARCHIVE_NAME, imageKey, migrationLayout } from "./migration-layout.js";

/** Live transfer progress, for the user watching `herd migrate`. */
export type ProgressFn = (p: TransferProgress) => void;

/** The destination's transfer endpoint (its RsyncDaemon). */
export interface PeerEndpoint {
  address: string;
  port: number;
}

export interface SyncReport {
  bytes: number;
  files: number;
  durationMs: number;
}

export interface FreezeReport {
  checkpointName: string;
  /** When the dump started (epoch ms, this node's clock). */
  frozenAt: number;
  checkpointBytes: number;
  /** Time CRIU took to dump (container frozen from here on). */
  checkpointMs: number;
  /** Final sync of the layer/volume deltas and the checkpoint images. */
  finalSync: SyncReport;
}

export interface SourceStepsOptions {
  runtime: ContainerRuntime;
  checkpointer: Checkpointer;
  transfer: FileTransfer;
  images: ImageCache;
  /** Where exported image archives are kept between migrations. */
  imageCacheDir: string;
  log: Logger;
  transferOptions?: Omit<TransferOptions, "signal">;
  /** Connected TCP sockets in the namespace of the container's init (default: read from /proc). */
  connections?: (pid: number) => Promise<TcpConnection[]>;
  /** Announces a kept address back at the source after a rollback's resume. */
  announcer?: AddressAnnouncer;
  /** Who the container's processes run as, and who the agent is (default: read from /proc). */
  identities?: {
    processes: (pid: number) => Promise<ProcessIdentity[]>;
    self: () => Promise<{ uid: number; gid: number; sysResource: boolean }>;
  };
}

/** Docker checkpoint names allow [a-zA-Z0-9][a-zA-Z0-9_.-]+; migration ids are checked to fit. */
export function checkpointNameFor(migrationId: string): string {
  return `herd-${migrationId}`;
}

function addStats(into: SyncReport, s: TransferStats): void {
  into.bytes += s.bytesSent + s.bytesReceived;
  into.files += s.filesTransferred;
  into.durationMs += s.durationMs;
}

/**
 * The source node's half of a live migration, as the orchestrator's commands drive it:
 * describe → ship image → pre-copy (running) → freeze (checkpoint + final sync) → either the
 * destination restores and the source is removed, or `resume` brings the source back.
 */
export class SourceMigrationSteps {
  constructor(private readonly o: SourceStepsOptions) {}

  /** The container's spec, refusing what cannot be migrated (ValidationError listing why). */
  async describe(container: string): Promise<ContainerSpec> {
    const spec = await this.o.runtime.inspect(container);
    // Refused here, before anything is frozen: what cannot keep working on another node (see
    // connectionRefusals; a container on the cluster network keeps its address and connections).
    const refusals = [
      ...checkMigratable(spec),
      ...connectionRefusals(spec, spec.state.running ? await (this.o.connections ?? connectedTcp)(spec.state.pid) : []),
      ...(spec.state.running
        ? identityRefusals(
            await (this.o.identities?.self ?? ownIdentity)(),
            await (this.o.identities?.processes ?? containerProcesses)(spec.state.pid),
          )
        : []),
    ];
    if (refusals.length > 0) {
      throw new ValidationError("container", `${spec.name} cannot be live-migrated: ${refusals.map((r) => `${r.detail}: ${r.reason}`).join("; ")}`);
    }
    return spec;
  }

  /** Sends the image archive to the destination's shared image area; cheap when already there. */
  async shipImage(spec: ContainerSpec, peer: PeerEndpoint, onProgress?: ProgressFn, signal?: AbortSignal): Promise<SyncReport> {
    const key = imageKey(spec.imageId);
    const dir = join(this.o.imageCacheDir, key);
    await this.o.images.exportImage(spec.image, spec.imageId, join(dir, IMAGE_ARCHIVE_NAME));
    const report: SyncReport = { bytes: 0, files: 0, durationMs: 0 };
    // No --delete: the destination's image area is shared by migrations.
    addStats(
      report,
      await this.o.transfer.sync(dir, { ...peer, path: migrationLayout.image(spec.imageId) }, { ...this.o.transferOptions, delete: false, onProgress, signal }),
    );
    this.o.log.debug("Shipped image", { containerId: spec.id, imageId: spec.imageId, bytes: report.bytes });
    return report;
  }

  /** Copies the writable layer and named volumes while the container keeps running. */
  async preCopy(spec: ContainerSpec, migrationId: string, peer: PeerEndpoint, onProgress?: ProgressFn, signal?: AbortSignal): Promise<SyncReport> {
    return this.syncFilesystems(spec, migrationId, peer, onProgress, signal);
  }

  /**
   * Freezes the container into a checkpoint (it stops), then sends what changed since the
   * pre-copy plus the checkpoint images. From here the source is stopped until `resume`.
   */
  async freeze(spec: ContainerSpec, migrationId: string, peer: PeerEndpoint, onProgress?: ProgressFn, signal?: AbortSignal): Promise<FreezeReport> {
    const name = checkpointNameFor(migrationId);
    // A redelivered freeze finds the container stopped; the checkpointer recognises its own
    // complete images and returns them instead of failing.
    const cp = await this.o.checkpointer.checkpoint(spec.id, name, { signal });
    const finalSync = await this.finalSync(spec, migrationId, cp.dir, peer, onProgress, signal);
    return { checkpointName: name, frozenAt: cp.startedAt, checkpointBytes: cp.bytes, checkpointMs: cp.durationMs, finalSync };
  }

  /**
   * Post-copy freeze: dumps everything but memory (the tasks stay frozen here, memory intact),
   * sends the layer deltas and the small images, and leaves CRIU's page server listening on
   * `pageServer` until the destination has pulled every page (`served`). A failed final sync
   * aborts the page server, which lets the container run on here.
   */
  async freezeLazy(
    spec: ContainerSpec,
    migrationId: string,
    peer: PeerEndpoint,
    o: { pageServer: PageServerEndpoint; timeoutMs: number; onProgress?: ProgressFn; signal?: AbortSignal },
  ): Promise<FreezeReport & { served: Promise<PageTransferOutcome>; abort(): void }> {
    if (!this.o.checkpointer.checkpointLazy)
      throw new ExternalError("this node's checkpointer cannot dump for post-copy (runc is needed)", { retryable: false });
    const name = checkpointNameFor(migrationId);
    const cp = await this.o.checkpointer.checkpointLazy(spec.id, name, {
      pageServer: o.pageServer,
      timeoutMs: o.timeoutMs,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    try {
      const finalSync = await this.finalSync(spec, migrationId, cp.dir, peer, o.onProgress, o.signal);
      return {
        checkpointName: name,
        frozenAt: cp.startedAt,
        checkpointBytes: cp.bytes,
        checkpointMs: cp.durationMs,
        finalSync,
        served: cp.served,
        abort: cp.abort,
      };
    } catch (err) {
      cp.abort();
      await cp.served;
      throw err;
    }
  }

  /** Rollback after `freeze`: the source continues from its own checkpoint. */
  async resume(spec: ContainerSpec, migrationId: string, signal?: AbortSignal): Promise<void> {
    await this.o.checkpointer.restore(spec.id, checkpointNameFor(migrationId), { signal });
    if (spec.ipv4Address && this.o.announcer) {
      const now = await this.o.runtime.inspect(spec.id);
      if (now.state.running) await this.o.announcer.announce(now.state.pid, spec.ipv4Address);
    }
  }

  /** Makes sure a container the engine shows running is not left frozen or traced by an unfinished dump. */
  async release(spec: ContainerSpec): Promise<void> {
    await this.o.checkpointer.release?.(spec.id);
    // After a post-copy that failed, the source's address was down for a while (see checkpointLazy): announce it again.
    if (spec.ipv4Address && this.o.announcer) {
      const now = await this.o.runtime.inspect(spec.id);
      if (now.state.running) await this.o.announcer.announce(now.state.pid, spec.ipv4Address);
    }
  }

  /** Commit: the destination runs, the source container and its checkpoint go. */
  async removeSource(spec: ContainerSpec, migrationId: string): Promise<void> {
    await this.o.checkpointer.remove(spec.id, checkpointNameFor(migrationId));
    await this.o.runtime.remove(spec.id, { force: true });
  }

  /**
   * The frozen container's last sync: the layer/volume deltas and the checkpoint images side by
   * side. The container is frozen until both are done, and each rsync run costs about 0.1-0.2 s
   * of connection set-up and teardown here even when nothing changed (measured for issue 10), so
   * running them one after the other added that much to every frozen time.
   */
  private async finalSync(
    spec: ContainerSpec,
    migrationId: string,
    imagesDir: string,
    peer: PeerEndpoint,
    onProgress?: ProgressFn,
    signal?: AbortSignal,
  ): Promise<SyncReport> {
    // Both are waited for even when one fails: no rsync of this migration may still be writing to
    // the destination's staging area when the rollback cleans it up.
    // No whole-file checksum for what is sent while frozen (see TransferOptions.verifyChecksum).
    const frozen = { verifyChecksum: false };
    const [files, images] = await Promise.allSettled([
      this.syncFilesystems(spec, migrationId, peer, onProgress, signal, frozen),
      this.o.transfer.sync(imagesDir, { ...peer, path: migrationLayout.checkpoint(migrationId) }, { ...this.o.transferOptions, ...frozen, onProgress, signal }),
    ]);
    if (files.status === "rejected") throw files.reason;
    if (images.status === "rejected") throw images.reason;
    addStats(files.value, images.value);
    return files.value;
  }

  private async syncFilesystems(
    spec: ContainerSpec,
    migrationId: string,
    peer: PeerEndpoint,
    onProgress?: ProgressFn,
    signal?: AbortSignal,
    extra: Pick<TransferOptions, "verifyChecksum"> = {},
  ): Promise<SyncReport> {
    const report: SyncReport = { bytes: 0, files: 0, durationMs: 0 };
    if (spec.upperDir) {
      addStats(
        report,
        await this.o.transfer.sync(spec.upperDir, { ...peer, path: migrationLayout.upper(migrationId) }, { ...this.o.transferOptions, ...extra, onProgress, signal }),
      );
    }
    for (const m of spec.mounts) {
      if (m.kind !== "volume") continue;
      addStats(
        report,
        await this.o.transfer.sync(m.source, { ...peer, path: migrationLayout.volume(migrationId, m.name) }, { ...this.o.transferOptions, ...extra, onProgress, signal }),
      );
    }
    return report;
  }
}
