import type { LazyPagesProgress } from "./lazy-pages-log.js";
/** What a checkpoint produced and how long the container was being dumped. */
export interface CheckpointResult {
  /** Directory holding the CRIU images (to be shipped to the destination). */
  dir: string;
  bytes: number;
  durationMs: number;
  /** When the dump started (epoch ms): the container's last moment of running here. */
  startedAt: number;
}

export interface CheckpointOptions {
  /** Aborting kills the dump (runc and its CRIU) and leaves the container running, thawed. */
  signal?: AbortSignal;
}

/**
 * Freezes a container's processes into CRIU images and starts a container from such images.
 * Implementations differ in how they drive CRIU (Docker's checkpoint API, runc directly); the
 * images they leave are what `restore` accepts, so a faster dump can be swapped in freely.
 * Errors: NotFoundError for an unknown container, ExternalError when the engine or CRIU fails.
 */
export interface Checkpointer {
  /**
   * Dumps the container and stops it (the source must not run on after a migration's dump).
   * Afterwards the container is stopped but not removed, so a failed migration can resume it
   * from the same images with `restore(containerId, name)`.
   */
  checkpoint(containerId: string, name: string, opts?: CheckpointOptions): Promise<CheckpointResult>;
  /** Where `restore(containerId, name)` expects the images; ship them here before restoring. */
  imageDir(containerId: string, name: string): Promise<string>;
  /** Starts the (created or stopped) container from the images in `imageDir(containerId, name)`. */
  restore(containerId: string, name: string, opts?: CheckpointOptions): Promise<{ durationMs: number }>;
  /**
   * Optional: after a dump that did not finish, thaws the container and checks nothing traces it
   * any more; says what it found. Throws if it stays traced.
   */
  release?(containerId: string): Promise<string>;
  /** Deletes the images. Missing = success. */
  remove(containerId: string, name: string): Promise<void>;
  /** Optional, post-copy: dumps all but memory and serves the pages from the frozen source (see LazyCheckpoint). */
  checkpointLazy?(containerId: string, name: string, o: { pageServer: PageServerEndpoint; timeoutMs: number; signal?: AbortSignal }): Promise<LazyCheckpoint>;
  /** Optional, post-copy: starts the container from those images, pulling its memory while it runs (see LazyRestore). */
  restoreLazy?(containerId: string, name: string, o: { pageServer: PageServerEndpoint; timeoutMs: number; signal?: AbortSignal }): Promise<LazyRestore>;
  /** Optional, post-copy: what the lazy-pages daemon of that restore logged (it survives an agent restart); undefined if nothing. */
  lazyPagesRecord?(containerId: string, name: string): Promise<LazyPagesProgress | undefined>;
}

/** Where a source's CRIU page server listens for the destination's lazy-pages daemon (post-copy). */
export interface PageServerEndpoint {
  address: string;
  port: number;
}

/** The outcome of a post-copy page transfer, on either side. */
export interface PageTransferOutcome {
  ok: boolean;
  detail: string;
}

/**
 * A post-copy dump: everything but memory is in `dir`, and the source's tasks stay frozen (their
 * memory intact) while CRIU's page server hands the pages to the destination.
 */
export interface LazyCheckpoint extends CheckpointResult {
  /**
   * Settles when the page server ended. ok: every page went out and runc stopped the source's
   * container (the source is released). Not ok: the container was released to run on here again
   * (CRIU resumes it on a failed transfer; a killed CRIU is thawed by the agent), `detail` says why.
   */
  served: Promise<PageTransferOutcome>;
  /** Kills the page server and its dump with their process group (the source then runs on). */
  abort(): void;
}

/** A container restored without its memory, pulling pages from the source while it runs. */
export interface LazyRestore {
  durationMs: number;
  /**
   * Settles when the lazy-pages daemon ended. Not ok means the restored copy's memory is
   * incomplete: the container has already been killed (it must not run on with zero-filled pages).
   */
  pulled: Promise<PageTransferOutcome>;
  /** Pages pulled so far and in all (from the daemon's log). */
  progress(): Promise<{ totalPages: number; transferredPages: number }>;
  /** Kills the daemon; the container is then killed as well. */
  abort(): void;
}
