/**
 * Herd's own description of a container: everything needed to recreate it on another engine.
 * Built from the engine's inspect data by one mapper (map-inspect-result.ts); nothing
 * engine-specific leaks past it.
 */

export type MountSpec =
  /** A named volume: its data lives under the engine's data root and can be copied. */
  | { kind: "volume"; name: string; destination: string; readOnly: boolean; driver: string; source: string }
  /** A host path bound into the container. */
  | { kind: "bind"; source: string; destination: string; readOnly: boolean }
  /** Memory-backed; `options` is Docker's tmpfs option string (e.g. "size=1m"). */
  | { kind: "tmpfs"; destination: string; options: string };

export interface PortBindingSpec {
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
  /** "" = all addresses. */
  hostIp: string;
  /** "" = an ephemeral port chosen by the engine. */
  hostPort: string;
}

export interface ResourceSpec {
  /** 0 = unlimited (Docker's convention, kept so the round trip is exact). */
  memoryBytes: number;
  memorySwapBytes: number;
  memoryReservationBytes: number;
  nanoCpus: number;
  cpuQuota: number;
  cpuPeriod: number;
  cpuShares: number;
  cpusetCpus: string;
  cpusetMems: string;
  /** null = engine default (unlimited). */
  pidsLimit: number | null;
}

export interface ContainerSpec {
  id: string;
  name: string;
  /** The reference the container was created from, e.g. "herd/workload:1". */
  image: string;
  /** Content id ("sha256:…"): what must exist on the destination. */
  imageId: string;
  cmd: string[];
  /** null = the image's own entrypoint. */
  entrypoint: string[] | null;
  /** "KEY=value" in the container's order. */
  env: string[];
  labels: Record<string, string>;
  workingDir: string;
  user: string;
  hostname: string;
  tty: boolean;
  openStdin: boolean;
  resources: ResourceSpec;
  mounts: MountSpec[];
  /** Ports the image/container exposes, as "80/tcp". */
  exposedPorts: string[];
  ports: PortBindingSpec[];
  restartPolicy: { name: "" | "no" | "always" | "unless-stopped" | "on-failure"; maximumRetryCount: number };
  /** "none", "bridge", "host", a network name, or "container:<id>". */
  networkMode: string;
  /** "" (private), "host" or "container:<id>" for each namespace. */
  pidMode: string;
  ipcMode: string;
  utsMode: string;
  privileged: boolean;
  /** Host devices as "hostPath:containerPath:permissions". */
  devices: string[];
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  /** The overlay upper dir holding the container's writable layer; null for other storage drivers. */
  upperDir: string | null;
  state: { status: string; running: boolean; pid: number };
}

/** Why a container cannot be live-migrated; `code` is stable for programs, `reason` for people. */
export interface Refusal {
  code: "bind-mount" | "shared-namespace" | "privileged" | "device" | "tmpfs" | "storage-driver";
  detail: string;
  reason: string;
}
