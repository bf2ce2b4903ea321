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
}
