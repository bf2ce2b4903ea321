import { createReadStream, createWriteStream } from "node:fs";
import { access, mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import type Dockerode from "dockerode";
import { ExternalError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { dockerError, dockerStatus } from "./docker-container-runtime.js";
import type { ImageCache } from "./image-cache.js";

/** {@link ImageCache} on a Docker Engine: `docker save` / `docker load` archives. */
export class DockerImageCache implements ImageCache {
  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
  ) {}

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (dockerStatus(err) === 404) return false;
      throw dockerError(`inspect image ${image}`, err);
    }
  }

  async exportImage(ref: string, imageId: string, file: string): Promise<void> {
    try {
      await access(file);
      this.log.debug("Image archive cached", { image: ref, imageId, file });
      return;
    } catch {
      // not cached yet
    }
    await mkdir(dirname(file), { recursive: true });
    // Written under a temporary name and renamed, so a crash never leaves a truncated "cached" archive.
    const tmp = `${file}.${process.pid}.tmp`;
    this.log.debug("Exporting image", { image: ref, imageId });
    try {
      // Saving by reference keeps the tag in the archive, so `docker load` restores the name too.
      const stream = await this.docker.getImage(ref).get();
      await pipeline(stream, createWriteStream(tmp));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      this.log.warn("Failed to export image", { image: ref, error: err });
      throw dockerError(`save image ${ref}`, err);
    }
    this.log.debug("Exported image", { image: ref, imageId, file });
  }

  async importImage(archivePath: string): Promise<void> {
    this.log.debug("Loading image archive", { file: archivePath });
    try {
      const stream = await this.docker.loadImage(createReadStream(archivePath), { quiet: true });
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
          const failed = output?.find((o) => o.error);
          if (err) reject(err);
          else if (failed) reject(new ExternalError(`docker load: ${failed.error}`));
          else resolve();
        });
      });
    } catch (err) {
      this.log.warn("Failed to load image archive", { file: archivePath, error: err });
      throw err instanceof ExternalError ? err : dockerError(`load image ${archivePath}`, err);
    }
    this.log.debug("Loaded image archive", { file: archivePath });
  }
}
