import type { ContainerSpec } from "./container-spec.js";

/**
 * One node's container engine, as the migration steps need it. Implementations map the engine's
 * own data to {@link ContainerSpec}; nothing engine-specific crosses this interface.
 * Errors: NotFoundError for an unknown container, ExternalError when the engine fails.
 */
export interface ContainerRuntime {
  /** Full config and state of a container, by id or name. */
  inspect(container: string): Promise<ContainerSpec>;
  /** Creates (does not start) a container with `spec`'s config; returns the new container's spec. */
  createFromSpec(spec: ContainerSpec): Promise<ContainerSpec>;
  /** Where this engine keeps a named volume's data (creating the volume if needed). */
  volumeDataDir(name: string): Promise<string>;
  /** The engine's data root (e.g. /var/lib/docker). */
  dataRoot(): Promise<string>;
  start(container: string): Promise<void>;
  /** Removes the container (and nothing else: volumes stay). Missing container = success. */
  remove(container: string, opts?: { force?: boolean }): Promise<void>;
}
