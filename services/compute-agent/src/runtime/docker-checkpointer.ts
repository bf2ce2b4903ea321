import { access, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { ExternalError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { withDeadline } from "../../../../shared/src/process/deadline.js";
import type { Checkpointer, CheckpointOptions, CheckpointResult } from "./checkpointer.js";
import { linkCheckpointImages, linkedImagesDir } from "./checkpoint-links.js";
import { dirSize } from "./dir-size.js";
import { dockerError, dockerStatus } from "./docker-container-runtime.js";

interface CheckpointApi {
  createCheckpoint(opts: { CheckpointID: string; Exit: boolean }): Promise<unknown>;
  // docker-modem puts POST options in the body unless split: `start` must send the checkpoint as a
  // query parameter and an empty body (a body is rejected since API 1.24).
  start(opts: { _query: { checkpoint: string }; _body: Record<string, never> }): Promise<unknown>;
}

export interface DockerCheckpointerOptions {
  /** The engine's data root; read from `docker info` when omitted. */
  dataRoot?: string;
  now?: () => number;
  /**
   * Restore through links to the images (default) instead of letting Docker copy them twice
   * through containerd's content store; `false` only to measure the difference (bench:migration).
   */
  linkImages?: boolean;
}

/**
 * {@link Checkpointer} through Docker's experimental checkpoint API (the engine must run with
 * `--experimental` and find CRIU 4.x on its PATH). Images live in Docker's default checkpoint dir,
 * `<data-root>/containers/<id>/checkpoints/<name>`: Docker ≥ 17.12 refuses custom checkpoint
 * dirs, so a restore on another engine needs the images copied under the new container's id.
 */
export class DockerCheckpointer implements Checkpointer {
  private root: string | undefined;
  private readonly now: () => number;
  private readonly linkImages: boolean;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    opts: DockerCheckpointerOptions = {},
  ) {
    this.root = opts.dataRoot;
    this.now = opts.now ?? Date.now;
    this.linkImages = opts.linkImages ?? true;
  }

  async checkpoint(containerId: string, name: string, opts: CheckpointOptions = {}): Promise<CheckpointResult> {
    const id = await this.resolveId(containerId);
    const dir = await this.imageDir(id, name);
    // The checkpoint endpoints exist in dockerode but not in its type declarations.
    const container = this.docker.getContainer(id) as unknown as CheckpointApi;
    const t0 = this.now();
    this.log.debug("Checkpointing container", { containerId: id, checkpoint: name });
    try {
      // The engine's call cannot be killed from here: on a deadline the command fails and the
      // rollback finds the container still running (Docker cancels nothing, CRIU finishes or not).
      await withDeadline(container.createCheckpoint({ CheckpointID: name, Exit: true }), `checkpoint of ${id}`, opts);
    } catch (err) {
      // A redelivered command finds its own earlier checkpoint: the container is already stopped
      // and the images are complete (Docker writes the dir only after CRIU succeeded).
      if (await this.completeCheckpointExists(id, dir)) {
        this.log.info("Checkpoint already taken", { containerId: id, checkpoint: name });
      } else {
        this.log.warn("Failed to checkpoint container", { containerId: id, checkpoint: name, error: err });
        throw dockerError(`checkpoint container ${id}`, err);
      }
    }
    const durationMs = this.now() - t0;
    const bytes = await dirSize(dir);
    this.log.debug("Checkpointed container", { containerId: id, checkpoint: name, durationMs, bytes });
    return { dir, bytes, durationMs, startedAt: t0 };
  }

  async imageDir(containerId: string, name: string): Promise<string> {
    const id = await this.resolveId(containerId);
    return join(await this.dataRoot(), "containers", id, "checkpoints", name);
  }

  async restore(containerId: string, name: string, opts: CheckpointOptions = {}): Promise<{ durationMs: number }> {
    const id = await this.resolveId(containerId);
    const t0 = this.now();
    this.log.debug("Restoring container from checkpoint", { containerId: id, checkpoint: name });
    // Docker would copy the images twice through containerd's content store; links make that
    // copy a few KB (see checkpoint-links.ts).
    const dir = await this.imageDir(id, name);
    if (this.linkImages) {
      try {
        const files = await linkCheckpointImages(dir);
        this.log.debug("Checkpoint images linked", { containerId: id, checkpoint: name, files, linkMs: this.now() - t0 });
      } catch (err) {
        throw new ExternalError(`restore container ${id}: cannot link the images of checkpoint ${name} in ${dir}: ${errorMessage(err)}`, { cause: err });
      }
    }
    try {
      await withDeadline(
        (this.docker.getContainer(id) as unknown as CheckpointApi).start({ _query: { checkpoint: name }, _body: {} }),
        `restore of ${id} from ${name}`,
        opts,
      );
    } catch (err) {
      if (dockerStatus(err) === 304) {
        this.log.info("Container already running; restore skipped", { containerId: id, checkpoint: name });
        return { durationMs: 0 };
      }
      this.log.warn("Failed to restore container", { containerId: id, checkpoint: name, error: err });
      throw dockerError(`restore container ${id} from checkpoint ${name}`, err);
    }
    const durationMs = this.now() - t0;
    this.log.debug("Restored container from checkpoint", { containerId: id, checkpoint: name, durationMs });
    return { durationMs };
  }

  async remove(containerId: string, name: string): Promise<void> {
    let dir: string;
    try {
      dir = await this.imageDir(containerId, name);
    } catch (err) {
      if ((err as { name?: string }).name === "NotFoundError") return;
      throw err;
    }
    this.log.debug("Removing checkpoint", { containerId, checkpoint: name });
    await rm(dir, { recursive: true, force: true });
    await rm(linkedImagesDir(dir), { recursive: true, force: true });
  }

  /** Makes sure the parent of a checkpoint dir exists (for images arriving from another node). */
  async prepareImageDir(containerId: string, name: string): Promise<string> {
    const dir = await this.imageDir(containerId, name);
    await mkdir(join(dir, ".."), { recursive: true });
    return dir;
  }

  /** True if `dir` holds a finished dump of the (now stopped) container: a redelivered checkpoint is then a no-op. */
  async completeCheckpointExists(id: string, dir: string): Promise<boolean> {
    try {
      await access(join(dir, "inventory.img"));
    } catch {
      return false;
    }
    const info = await this.docker.getContainer(id).inspect();
    return !info.State.Running;
  }

  /** The full 64-hex id of a container given by id, short id or name. */
  async resolveId(container: string): Promise<string> {
    if (/^[0-9a-f]{64}$/.test(container)) return container;
    try {
      return (await this.docker.getContainer(container).inspect()).Id;
    } catch (err) {
      throw dockerError(`inspect container ${container}`, err);
    }
  }

  private async dataRoot(): Promise<string> {
    if (this.root) return this.root;
    try {
      const info = (await this.docker.info()) as { DockerRootDir?: string };
      if (!info.DockerRootDir) throw new Error("engine info has no DockerRootDir");
      this.root = info.DockerRootDir;
    } catch (err) {
      throw dockerError("engine info", err);
    }
    return this.root;
  }
}
