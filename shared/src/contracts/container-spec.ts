import { z } from "zod";

/**
 * Herd's own description of a container: everything needed to recreate it on another engine.
 * The agent builds it from the engine's inspect data by one mapper (map-inspect-result.ts); it
 * crosses the broker in the migration saga and is validated on both sides with this schema.
 */

export const MountSpec = z.discriminatedUnion("kind", [
  /** A named volume: its data lives under the engine's data root and can be copied. */
  z.object({
    kind: z.literal("volume"),
    name: z.string().min(1),
    destination: z.string().min(1),
    readOnly: z.boolean(),
    driver: z.string(),
    source: z.string(),
  }),
  /** A host path bound into the container. */
  z.object({ kind: z.literal("bind"), source: z.string(), destination: z.string().min(1), readOnly: z.boolean() }),
  /** Memory-backed; `options` is Docker's tmpfs option string (e.g. "size=1m"). */
  z.object({ kind: z.literal("tmpfs"), destination: z.string().min(1), options: z.string() }),
]);
export type MountSpec = z.infer<typeof MountSpec>;

export const PortBindingSpec = z.object({
  containerPort: z.number().int().min(0).max(65535),
  protocol: z.enum(["tcp", "udp", "sctp"]),
  /** "" = all addresses. */
  hostIp: z.string(),
  /** "" = an ephemeral port chosen by the engine. */
  hostPort: z.string(),
});
export type PortBindingSpec = z.infer<typeof PortBindingSpec>;

export const ResourceSpec = z.object({
  /** 0 = unlimited (Docker's convention, kept so the round trip is exact). */
  memoryBytes: z.number().int().nonnegative(),
  memorySwapBytes: z.number().int(),
  memoryReservationBytes: z.number().int().nonnegative(),
  nanoCpus: z.number().int().nonnegative(),
  cpuQuota: z.number().int(),
  cpuPeriod: z.number().int().nonnegative(),
  cpuShares: z.number().int().nonnegative(),
  cpusetCpus: z.string(),
  cpusetMems: z.string(),
  /** null = engine default (unlimited). */
  pidsLimit: z.number().int().nullable(),
});
export type ResourceSpec = z.infer<typeof ResourceSpec>;

export const RestartPolicySpec = z.object({
  name: z.enum(["", "no", "always", "unless-stopped", "on-failure"]),
  maximumRetryCount: z.number().int().nonnegative(),
});
export type RestartPolicySpec = z.infer<typeof RestartPolicySpec>;

export const ContainerSpec = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  /** The reference the container was created from, e.g. "herd/workload:1". */
  image: z.string().min(1),
  /** Content id ("sha256:…"): what must exist on the destination. */
  imageId: z.string().min(1),
  cmd: z.array(z.string()),
  /** null = the image's own entrypoint. */
  entrypoint: z.array(z.string()).nullable(),
  /** "KEY=value" in the container's order. */
  env: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  workingDir: z.string(),
  user: z.string(),
  hostname: z.string(),
  tty: z.boolean(),
  openStdin: z.boolean(),
  resources: ResourceSpec,
  mounts: z.array(MountSpec),
  /** Ports the image/container exposes, as "80/tcp". */
  exposedPorts: z.array(z.string()),
  ports: z.array(PortBindingSpec),
  restartPolicy: RestartPolicySpec,
  /** "none", "bridge", "host", a network name, or "container:<id>". */
  networkMode: z.string(),
  /**
   * The static address the container was given on the `networkMode` network (the cluster
   * network's addresses are fixed by control and move with the container); absent otherwise.
   */
  ipv4Address: z.ipv4().optional(),
  /** "" (private), "host" or "container:<id>" for each namespace. */
  pidMode: z.string(),
  ipcMode: z.string(),
  utsMode: z.string(),
  privileged: z.boolean(),
  /** Host devices as "hostPath:containerPath:permissions". */
  devices: z.array(z.string()),
  capAdd: z.array(z.string()),
  capDrop: z.array(z.string()),
  securityOpt: z.array(z.string()),
  /** The overlay upper dir holding the container's writable layer; null for other storage drivers. */
  upperDir: z.string().nullable(),
  state: z.object({
    status: z.string(),
    running: z.boolean(),
    pid: z.number().int(),
    /** When the engine last started it (epoch ms), while it runs. */
    startedAt: z.number().optional(),
  }),
});
export type ContainerSpec = z.infer<typeof ContainerSpec>;
