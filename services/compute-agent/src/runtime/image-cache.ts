/**
 * A node's local image store. `export`/`import` move an image between nodes as one file; the
 * exported file is kept (keyed by image id) so shipping the same image again costs nothing.
 * Errors: NotFoundError for an unknown image, ExternalError when the engine fails.
 */
export interface ImageCache {
  /** True if the image (id "sha256:…" or reference) is present on this node. */
  hasImage(image: string): Promise<boolean>;
  /**
   * Writes the image (with its tag `ref`) as an archive to `file`. A complete file already there
   * is reused: callers key the path by image id.
   */
  exportImage(ref: string, imageId: string, file: string): Promise<void>;
  /** Loads an archive written by exportImage. */
  importImage(archivePath: string): Promise<void>;
}
