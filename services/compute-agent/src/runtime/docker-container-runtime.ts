import type Dockerode from "dockerode";
import { ExternalError, NotFoundError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { ContainerRuntime } from "./container-runtime.js";
import type { ContainerSpec } from "./container-spec.js";
import { mapCreateOptions } from "./map-create-options.js";
import { mapInspectResult, type RawInspectResult } from "./map-inspect-result.js";

/** dockerode rejects with an Error carrying the engine's HTTP status. */
export function dockerStatus(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** Turns a dockerode failure into Herd's typed error. */
export function dockerError(what: string, err: unknown): Error {
  if (dockerStatus(err) === 404) return new NotFoundError(`${what}: not found`, { cause: err });
  const msg = (err as { json?: { message?: string } } | null)?.json?.message ?? (err instanceof Error ? err.message : String(err));
  return new ExternalError(`${what}: ${msg}`, { cause: err });
}

/** {@link ContainerRuntime} on a Docker Engine, through dockerode. */
export class DockerContainerRuntime implements ContainerRuntime {
  private root: string | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly log: Logger,
  ) {}

  async inspect(container: string): Promise<ContainerSpec> {
    let raw: RawInspectResult;
    try {
      raw = (await this.docker.getContainer(container).inspect()) as unknown as RawInspectResult;
    } catch (err) {
      throw dockerError(`inspect container ${container}`, err);
    }
    return mapInspectResult(raw);
  }

  async createFromSpec(spec: ContainerSpec): Promise<ContainerSpec> {
    this.log.debug("Creating container from spec", { containerName: spec.name, image: spec.image, sourceId: spec.id });
    let id: string;
    try {
      const created = await this.docker.createContainer(mapCreateOptions(spec));
      id = created.id;
    } catch (err) {
      this.log.warn("Failed to create container from spec", { containerName: spec.name, error: err });
      throw dockerError(`create container ${spec.name}`, err);
    }
    this.log.debug("Created container from spec", { containerId: id, containerName: spec.name });
    return this.inspect(id);
  }

  async volumeDataDir(name: string): Promise<string> {
    try {
      // Create is idempotent for the local driver and returns the existing volume.
      const v = (await this.docker.createVolume({ Name: name })) as unknown as { Mountpoint?: string };
      if (v.Mountpoint) return v.Mountpoint;
      const info = (await this.docker.getVolume(name).inspect()) as { Mountpoint: string };
      return info.Mountpoint;
    } catch (err) {
      throw dockerError(`volume ${name}`, err);
    }
  }

  async dataRoot(): Promise<string> {
    if (this.root) return this.root;
    try {
      const info = (await this.docker.info()) as { DockerRootDir?: string };
      if (!info.DockerRootDir) throw new Error("engine info has no DockerRootDir");
      this.root = info.DockerRootDir;
      return this.root;
    } catch (err) {
      throw dockerError("engine info", err);
    }
  }

  async start(container: string): Promise<void> {
    this.log.debug("Starting container", { containerId: container });
    try {
      await this.docker.getContainer(container).start();
    } catch (err) {
      if (dockerStatus(err) === 304) return; // already running: start is idempotent
      this.log.warn("Failed to start container", { containerId: container, error: err });
      throw dockerError(`start container ${container}`, err);
    }
    this.log.debug("Started container", { containerId: container });
  }

  async remove(container: string, opts: { force?: boolean } = {}): Promise<void> {
    this.log.debug("Removing container", { containerId: container });
    try {
      await this.docker.getContainer(container).remove({ force: opts.force ?? false });
    } catch (err) {
      if (dockerStatus(err) === 404) return;
      this.log.warn("Failed to remove container", { containerId: container, error: err });
      throw dockerError(`remove container ${container}`, err);
    }
    this.log.debug("Removed container", { containerId: container });
  }
}
