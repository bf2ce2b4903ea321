/**
 * Herd's own description of a container lives in the shared wire contract (the saga carries it
 * between agents); re-exported here for the runtime's adapters.
 */
export type { ContainerSpec, MountSpec, PortBindingSpec, ResourceSpec } from "../../../../shared/src/contracts/container-spec.js";

/** Why a container cannot be live-migrated; `code` is stable for programs, `reason` for people. */
export interface Refusal {
  code: "bind-mount" | "shared-namespace" | "privileged" | "device" | "tmpfs" | "storage-driver" | "tcp-connection" | "process-identity";
  detail: string;
  reason: string;
}
