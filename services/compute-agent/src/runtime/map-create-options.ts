import type Dockerode from "dockerode";
import type { ContainerSpec } from "./container-spec.js";

/**
 * The inverse of mapInspectResult: the `POST /containers/create` body that recreates `spec` on
 * another engine with the same config. Pure. Inspecting the created container and mapping it back
 * gives the same spec except for id, image id (if the image differs), upper dir and state.
 */
export function mapCreateOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of spec.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    (portBindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort });
  }
  const exposed: Record<string, object> = {};
  for (const key of spec.exposedPorts) exposed[key] = {};

  const mounts: Dockerode.MountSettings[] = [];
  const tmpfs: Record<string, string> = {};
  for (const m of spec.mounts) {
    if (m.kind === "volume") {
      mounts.push({
        Type: "volume",
        Source: m.name,
        Target: m.destination,
        ReadOnly: m.readOnly,
        VolumeOptions: { NoCopy: false, Labels: {}, DriverConfig: { Name: m.driver, Options: {} } },
      });
    } else if (m.kind === "bind") {
      mounts.push({ Type: "bind", Source: m.source, Target: m.destination, ReadOnly: m.readOnly });
    } else {
      tmpfs[m.destination] = m.options;
    }
  }

  const devices = spec.devices.map((d) => {
    const [PathOnHost = "", PathInContainer = "", CgroupPermissions = "rwm"] = d.split(":");
    return { PathOnHost, PathInContainer, CgroupPermissions };
  });

  const r = spec.resources;
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.cmd,
    // An empty array would clear the image's entrypoint; undefined keeps it.
    ...(spec.entrypoint === null ? {} : { Entrypoint: spec.entrypoint }),
    Env: spec.env,
    Labels: spec.labels,
    WorkingDir: spec.workingDir,
    User: spec.user,
    Hostname: spec.hostname,
    Tty: spec.tty,
    OpenStdin: spec.openStdin,
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: spec.networkMode,
      PortBindings: portBindings,
      Mounts: mounts,
      ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
      RestartPolicy: { Name: spec.restartPolicy.name, MaximumRetryCount: spec.restartPolicy.maximumRetryCount },
      Memory: r.memoryBytes,
      MemorySwap: r.memorySwapBytes,
      MemoryReservation: r.memoryReservationBytes,
      NanoCpus: r.nanoCpus,
      CpuQuota: r.cpuQuota,
      CpuPeriod: r.cpuPeriod,
      CpuShares: r.cpuShares,
      CpusetCpus: r.cpusetCpus,
      CpusetMems: r.cpusetMems,
      ...(r.pidsLimit === null ? {} : { PidsLimit: r.pidsLimit }),
      PidMode: spec.pidMode,
      IpcMode: spec.ipcMode === "" ? "private" : spec.ipcMode,
      UTSMode: spec.utsMode,
      Privileged: spec.privileged,
      Devices: devices,
      CapAdd: spec.capAdd,
      CapDrop: spec.capDrop,
      SecurityOpt: spec.securityOpt,
    },
    // The same address on the destination: Docker derives the MAC from it, so peers' ARP entries stay right.
    ...(spec.ipv4Address ? { NetworkingConfig: { EndpointsConfig: { [spec.networkMode]: { IPAMConfig: { IPv4Address: spec.ipv4Address } } } } } : {}),
  };
}
