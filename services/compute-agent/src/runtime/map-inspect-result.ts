import { ValidationError } from "../../../../shared/src/errors.js";
import type { ContainerSpec, MountSpec, PortBindingSpec } from "./container-spec.js";

/**
 * The part of Docker's `GET /containers/{id}/json` answer that Herd reads. Declared here rather
 * than taken from @types/dockerode because the engine sends nulls where those types promise
 * arrays, and omits fields they mark required (e.g. `GraphDriver.Data.UpperDir`).
 */
export interface RawInspectResult {
  Id: string;
  Name: string;
  Image: string;
  State?: { Status?: string; Running?: boolean; Pid?: number; StartedAt?: string } | null;
  Config?: {
    Hostname?: string;
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | string | null;
    Image?: string;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Tty?: boolean;
    OpenStdin?: boolean;
  } | null;
  HostConfig?: {
    NetworkMode?: string;
    PidMode?: string;
    IpcMode?: string;
    UTSMode?: string;
    Privileged?: boolean;
    Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }> | null;
    CapAdd?: string[] | null;
    CapDrop?: string[] | null;
    SecurityOpt?: string[] | null;
    Tmpfs?: Record<string, string> | null;
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number } | null;
    Memory?: number;
    MemorySwap?: number;
    MemoryReservation?: number;
    NanoCpus?: number;
    CpuQuota?: number;
    CpuPeriod?: number;
    CpuShares?: number;
    CpusetCpus?: string;
    CpusetMems?: string;
    PidsLimit?: number | null;
  } | null;
  Mounts?: Array<{
    Type: string;
    Name?: string;
    Source?: string;
    Destination: string;
    Driver?: string;
    RW?: boolean;
  }> | null;
  GraphDriver?: { Name?: string; Data?: Record<string, string> | null } | null;
  NetworkSettings?: {
    Networks?: Record<string, { IPAMConfig?: { IPv4Address?: string } | null; IPAddress?: string } | null> | null;
  } | null;
}

const RESTART_POLICIES = new Set(["", "no", "always", "unless-stopped", "on-failure"]);
const PROTOCOLS = new Set(["tcp", "udp", "sctp"]);

/** Parses "80/tcp" (Docker's port key); a key without protocol means tcp. */
function parsePortKey(key: string): { port: number; protocol: PortBindingSpec["protocol"] } {
  const [portText = "", proto = "tcp"] = key.split("/");
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || !PROTOCOLS.has(proto)) {
    throw new ValidationError("HostConfig.PortBindings", `unrecognised port key "${key}"`);
  }
  return { port, protocol: proto as PortBindingSpec["protocol"] };
}

/** Docker's private IPC mode is spelled "private" or "shareable" (or "" on old engines): all mean "own namespace". */
function normaliseIpcMode(mode: string | undefined): string {
  return mode === undefined || mode === "private" || mode === "shareable" ? "" : mode;
}

/** Converts one inspect answer into Herd's {@link ContainerSpec}. Pure. */
export function mapInspectResult(raw: RawInspectResult): ContainerSpec {
  const config = raw.Config ?? {};
  const host = raw.HostConfig ?? {};

  const mounts: MountSpec[] = [];
  for (const m of raw.Mounts ?? []) {
    if (m.Type === "volume") {
      mounts.push({
        kind: "volume",
        name: m.Name ?? "",
        destination: m.Destination,
        readOnly: m.RW === false,
        driver: m.Driver ?? "local",
        source: m.Source ?? "",
      });
    } else if (m.Type === "bind") {
      mounts.push({ kind: "bind", source: m.Source ?? "", destination: m.Destination, readOnly: m.RW === false });
    } else if (m.Type === "tmpfs") {
      mounts.push({ kind: "tmpfs", destination: m.Destination, options: host.Tmpfs?.[m.Destination] ?? "" });
    }
  }
  // `--tmpfs` mounts appear only in HostConfig.Tmpfs, not in Mounts.
  for (const [destination, options] of Object.entries(host.Tmpfs ?? {})) {
    if (!mounts.some((m) => m.kind === "tmpfs" && m.destination === destination)) {
      mounts.push({ kind: "tmpfs", destination, options });
    }
  }
  mounts.sort((a, b) => a.destination.localeCompare(b.destination));

  const ports: PortBindingSpec[] = [];
  for (const [key, bindings] of Object.entries(host.PortBindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    for (const b of bindings ?? []) {
      ports.push({ containerPort: port, protocol, hostIp: b.HostIp ?? "", hostPort: b.HostPort ?? "" });
    }
  }
  ports.sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || a.hostPort.localeCompare(b.hostPort));

  const restartName = host.RestartPolicy?.Name ?? "";
  if (!RESTART_POLICIES.has(restartName)) {
    throw new ValidationError("HostConfig.RestartPolicy.Name", `unknown restart policy "${restartName}"`);
  }

  const entrypoint = config.Entrypoint;
  const graphData = raw.GraphDriver?.Data ?? {};

  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ""),
    image: config.Image ?? raw.Image,
    imageId: raw.Image,
    cmd: config.Cmd ?? [],
    entrypoint: entrypoint === undefined || entrypoint === null ? null : typeof entrypoint === "string" ? [entrypoint] : entrypoint,
    env: config.Env ?? [],
    labels: config.Labels ?? {},
    workingDir: config.WorkingDir ?? "",
    user: config.User ?? "",
    hostname: config.Hostname ?? "",
    tty: config.Tty ?? false,
    openStdin: config.OpenStdin ?? false,
    resources: {
      memoryBytes: host.Memory ?? 0,
      memorySwapBytes: host.MemorySwap ?? 0,
      memoryReservationBytes: host.MemoryReservation ?? 0,
      nanoCpus: host.NanoCpus ?? 0,
      cpuQuota: host.CpuQuota ?? 0,
      cpuPeriod: host.CpuPeriod ?? 0,
      cpuShares: host.CpuShares ?? 0,
      cpusetCpus: host.CpusetCpus ?? "",
      cpusetMems: host.CpusetMems ?? "",
      // 0 and -1 both mean "no limit" to the engine; keep one spelling.
      pidsLimit: host.PidsLimit === undefined || host.PidsLimit === null || host.PidsLimit <= 0 ? null : host.PidsLimit,
    },
    mounts,
    exposedPorts: Object.keys(config.ExposedPorts ?? {}).sort(),
    ports,
    restartPolicy: {
      name: restartName as ContainerSpec["restartPolicy"]["name"],
      maximumRetryCount: host.RestartPolicy?.MaximumRetryCount ?? 0,
    },
    networkMode: host.NetworkMode ?? "default",
    // Only a static address (the cluster network's, fixed by control) is part of the spec; an
    // engine-assigned one would differ on another node anyway.
    ...staticAddress(raw, host.NetworkMode),
    pidMode: host.PidMode ?? "",
    ipcMode: normaliseIpcMode(host.IpcMode),
    utsMode: host.UTSMode ?? "",
    privileged: host.Privileged ?? false,
    devices: (host.Devices ?? []).map((d) => `${d.PathOnHost}:${d.PathInContainer}:${d.CgroupPermissions}`),
    capAdd: host.CapAdd ?? [],
    capDrop: host.CapDrop ?? [],
    securityOpt: host.SecurityOpt ?? [],
    upperDir: raw.GraphDriver?.Name === "overlay2" || raw.GraphDriver?.Name === "overlay" ? (graphData.UpperDir ?? null) : null,
    state: {
      status: raw.State?.Status ?? "unknown",
      running: raw.State?.Running ?? false,
      pid: raw.State?.Pid ?? 0,
      ...(raw.State?.Running && startedAt(raw.State.StartedAt) !== undefined ? { startedAt: startedAt(raw.State.StartedAt) } : {}),
    },
  };
}

/** The engine's RFC 3339 start time as epoch ms; Docker writes the zero time for never-started containers. */
function startedAt(raw: string | undefined): number | undefined {
  const t = raw ? Date.parse(raw) : NaN;
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

function staticAddress(raw: RawInspectResult, networkMode: string | undefined): { ipv4Address?: string } {
  const ip = networkMode ? raw.NetworkSettings?.Networks?.[networkMode]?.IPAMConfig?.IPv4Address : undefined;
  return ip ? { ipv4Address: ip } : {};
}
