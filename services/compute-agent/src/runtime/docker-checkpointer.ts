import { access, chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { ExternalError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { withDeadline } from "../../../../shared/src/process/deadline.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";
import type { Checkpointer, CheckpointOptions, CheckpointResult, LazyRestore, PageServerEndpoint, PageTransferOutcome } from "./checkpointer.js";
import { herdRuncVersion } from "./criu-features.js";
import { parseLazyPagesLog, type LazyPagesProgress } from "./lazy-pages-log.js";
import { linkCheckpointImages, linkedImagesDir, removeUnpackedCopies } from "./checkpoint-links.js";
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
  /** Where the runc wrapper (infra/herd-runc.sh) looks for lazy-restore markers. */
  lazyRestoreDir?: string;
  /** The engine's containerd temp dir, where it unpacks checkpoints for a restore (default /tmp). */
  engineTmpDir?: string;
  /** Runs `criu lazy-pages` (post-copy); default runProcess with /usr/local/bin first on PATH. */
  runLazyPages?: ProcessRunner;
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
  private wrapperVersion: Promise<number> | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
    opts: DockerCheckpointerOptions = {},
  ) {
    this.root = opts.dataRoot;
    this.now = opts.now ?? Date.now;
    this.linkImages = opts.linkImages ?? true;
    this.lazyRestoreDir = opts.lazyRestoreDir ?? "/run/herd/lazy-restore";
    this.engineTmpDir = opts.engineTmpDir ?? "/tmp";
    this.runLazyPages = opts.runLazyPages ?? runProcess;
  }

  private readonly lazyRestoreDir: string;
  private readonly engineTmpDir: string;
  private readonly runLazyPages: ProcessRunner;

  /**
   * Post-copy restore: starts `criu lazy-pages` (connecting to the source's page server), leaves a
   * marker that makes the runc wrapper add `--lazy-pages` to this container's restore, and lets
   * Docker start the container from the checkpoint as usual (its view stays true). The container
   * runs at once; its memory arrives while it runs. The daemon is supervised: if it ends before
   * every page arrived (the source died, the network broke, its deadline passed), the container is
   * killed at once, because a restored process whose userfaultfd is gone reads zero-filled pages
   * (seen here: `verify=bad`) instead of failing.
   */
  async restoreLazy(containerId: string, name: string, o: { pageServer: PageServerEndpoint; timeoutMs: number; signal?: AbortSignal }): Promise<LazyRestore> {
    const id = await this.resolveId(containerId);
    const dir = await this.imageDir(id, name);
    const work = `${dir}.lazy`;
    const t0 = this.now();
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    // Linked before the daemon starts: the daemon reads this dir (pstree, pagemaps) while the
    // restore below would be moving each file out and putting a link in its place, so a daemon
    // reading between a rename and its link finds the image missing. With CRIU's kernel-probe
    // cache the daemon reaches its images ~45 ms sooner, inside that window: post-copy restores
    // failed ("uffd: Unexpected response: 1", i.e. the daemon counted no tasks; "Unexpected EOF on
    // (empty-image)") until this moved here.
    await this.linkImagesOf(id, name, dir);
    const abort = new AbortController();
    this.log.info("Post-copy restore: starting the lazy-pages daemon", {
      containerId: id,
      checkpoint: name,
      pageServer: `${o.pageServer.address}:${o.pageServer.port}`,
    });
    const daemon = this.runLazyPages(
      "criu",
      ["lazy-pages", "--page-server", "--address", o.pageServer.address, "--port", String(o.pageServer.port), "-D", dir, "-W", work, "-o", "lazy.log", "-v4"],
      { timeoutMs: o.timeoutMs, signal: abort.signal, env: { ...process.env, PATH: `/usr/local/bin:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` } },
    );
    let ended: { code: number } | Error | undefined;
    const settled = daemon.then(
      (r) => (ended = r),
      (err: unknown) => (ended = err instanceof Error ? err : new Error(errorMessage(err))),
    );
    const readLog = () => readFile(join(work, "lazy.log"), "utf8").catch(() => "");
    // herd-runc ≥ 3 waits for the daemon's socket itself: the daemon's start (~0.1 s, mostly
    // CRIU's kernel probes) then overlaps the engine's work before runc, while the container is
    // frozen. An older wrapper would run the restore before the daemon listens: wait here.
    const overlap = (await this.runcWrapperVersion()) >= 3;
    // A daemon that ends stops the wrapper's wait (the restore then fails at once, see the wrapper).
    void settled.then(() => writeFile(join(work, "daemon-ended"), "").catch(() => undefined));
    const readyBy = this.now() + 20_000;
    while (
      !overlap &&
      !ended &&
      !(await access(join(work, "lazy-pages.socket")).then(
        () => true,
        () => false,
      ))
    ) {
      if (this.now() > readyBy) abort.abort(new Error("criu lazy-pages did not listen within 20 s"));
      await sleep(10);
    }
    const fail = async (why: string): Promise<never> => {
      abort.abort(new Error(why));
      await settled;
      const p = parseLazyPagesLog(await readLog());
      throw new ExternalError(`post-copy restore of ${id} from ${name}: ${why}${p.error ? `; CRIU: ${p.error}` : ""}`);
    };
    if (ended) await fail(`criu lazy-pages ended before the restore (${ended instanceof Error ? ended.message : `exit ${ended.code}`})`);
    const marker = join(this.lazyRestoreDir, id);
    await mkdir(this.lazyRestoreDir, { recursive: true });
    await chmod(this.lazyRestoreDir, 0o700);
    await writeFile(marker, `${work}\n`, { mode: 0o600 });
    try {
      await this.restore(id, name, o.signal ? { signal: o.signal } : {});
    } catch (err) {
      await rm(marker, { force: true });
      await this.docker
        .getContainer(id)
        .kill()
        .catch(() => undefined);
      return fail(`restore failed: ${errorMessage(err)}`);
    }
    await rm(marker, { force: true });
    const durationMs = this.now() - t0;
    const pulled: Promise<PageTransferOutcome> = settled.then(async () => {
      const p = parseLazyPagesLog(await readLog());
      const exit = ended instanceof Error ? ended.message : `exit ${ended?.code ?? "?"}`;
      if (!(ended instanceof Error) && ended?.code === 0 && p.complete) {
        this.log.info("Post-copy: every page pulled", { containerId: id, checkpoint: name, pages: p.totalPages, pulledMs: this.now() - t0 });
        return { ok: true, detail: `${p.totalPages} pages pulled` };
      }
      // The memory is incomplete: the copy must not run on.
      const killed = await this.docker
        .getContainer(id)
        .kill()
        .then(
          () => "killed",
          (err: unknown) => `kill failed: ${errorMessage(err)}`,
        );
      this.log.error("Post-copy: page transfer broke off; the restored copy was killed", {
        containerId: id,
        checkpoint: name,
        exit,
        criu: p.error,
        transferredPages: p.transferredPages,
        totalPages: p.totalPages,
        killed,
      });
      return {
        ok: false,
        detail: `page transfer broke off after ${p.transferredPages} of ${p.totalPages} pages (criu lazy-pages ${exit}${p.error ? `: ${p.error}` : ""}); the destination copy was ${killed}`,
      };
    });
    this.log.info("Post-copy: container runs; pulling its pages", { containerId: id, checkpoint: name, durationMs });
    return {
      durationMs,
      pulled,
      progress: async () => {
        const p = parseLazyPagesLog(await readLog());
        return { totalPages: p.totalPages, transferredPages: p.transferredPages };
      },
      abort: () => abort.abort(new Error("post-copy restore aborted")),
    };
  }

  /** See Checkpointer.lazyPagesRecord: the daemon's log in the restore's work dir (`<images>.lazy`). */
  async lazyPagesRecord(containerId: string, name: string): Promise<LazyPagesProgress | undefined> {
    const log = await readFile(join(`${await this.imageDir(containerId, name)}.lazy`, "lazy.log"), "utf8").catch(() => undefined);
    return log === undefined ? undefined : parseLazyPagesLog(log);
  }

  /**
   * The runc wrapper's version (`herd-runc N`, infra/herd-runc.sh); 0 when runc is not the wrapper.
   * Asked once per agent (it was asked on every post-copy restore, inside the frozen window); an
   * answer that could not be read is asked again next time.
   */
  private runcWrapperVersion(): Promise<number> {
    this.wrapperVersion ??= this.runLazyPages("runc", ["--herd-lazy-restore-check"], {
      timeoutMs: 5_000,
      env: { ...process.env, PATH: `/usr/local/bin:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` },
    }).then(
      (r) => (r.code === 0 ? herdRuncVersion(r.stdout) : 0),
      () => 0,
    );
    const asked = this.wrapperVersion;
    void asked.then((v) => {
      if (v === 0 && this.wrapperVersion === asked) this.wrapperVersion = undefined;
    });
    return asked;
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
    const dir = await this.imageDir(id, name);
    await this.linkImagesOf(id, name, dir);
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
    if (this.linkImages) {
      const removed = await removeUnpackedCopies(this.engineTmpDir, dir).catch((err: unknown) => {
        this.log.warn("Could not remove containerd's unpacked checkpoint copy", { containerId: id, checkpoint: name, error: errorMessage(err) });
        return 0;
      });
      this.log.debug("Removed containerd's unpacked checkpoint copies", { containerId: id, checkpoint: name, removed });
    }
    return { durationMs };
  }

  /**
   * Docker would copy the images twice through containerd's content store; links make that copy a
   * few KB (see checkpoint-links.ts). Idempotent: images already linked are left as they are.
   */
  private async linkImagesOf(id: string, name: string, dir: string): Promise<void> {
    if (!this.linkImages) return;
    const t0 = this.now();
    try {
      const files = await linkCheckpointImages(dir);
      this.log.debug("Checkpoint images linked", { containerId: id, checkpoint: name, files, linkMs: this.now() - t0 });
    } catch (err) {
      throw new ExternalError(`restore container ${id}: cannot link the images of checkpoint ${name} in ${dir}: ${errorMessage(err)}`, { cause: err });
    }
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
