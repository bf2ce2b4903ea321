import type { ContainerSpec, Refusal } from "./container-spec.js";

function sharedNamespace(kind: string, mode: string): Refusal | undefined {
  if (mode === "host") {
    return {
      code: "shared-namespace",
      detail: `${kind}=host`,
      reason: `it shares the host's ${kind} namespace: its processes see and hold host resources that do not exist on another node, and CRIU cannot dump a namespace it does not own`,
    };
  }
  if (mode.startsWith("container:")) {
    return {
      code: "shared-namespace",
      detail: `${kind}=${mode}`,
      reason: `it shares the ${kind} namespace of another container (${mode.slice("container:".length, "container:".length + 12)}); moving one without the other would split them, and CRIU cannot dump a namespace owned by another container`,
    };
  }
  return undefined;
}

/**
 * Every reason the container cannot be live-migrated; empty = migratable. Pure: decides from the
 * spec alone, so the orchestrator can refuse before touching anything.
 */
export function checkMigratable(spec: ContainerSpec): Refusal[] {
  const out: Refusal[] = [];
  for (const m of spec.mounts) {
    if (m.kind === "bind") {
      out.push({
        code: "bind-mount",
        detail: `${m.source} -> ${m.destination}`,
        reason:
          "a host path is bound in: its content belongs to the source host and is not copied, and CRIU restore fails (or silently binds a different file) if the path differs on the destination",
      });
    } else if (m.kind === "tmpfs") {
      out.push({
        code: "tmpfs",
        detail: m.destination,
        reason:
          "tmpfs content lives only in the source host's memory: neither the writable-layer sync nor Docker's checkpoint carries it, so the process would resume over an empty directory",
      });
    }
  }
  for (const [kind, mode] of [
    ["network", spec.networkMode],
    ["pid", spec.pidMode],
    ["ipc", spec.ipcMode],
    ["uts", spec.utsMode],
  ] as const) {
    const r = sharedNamespace(kind, mode);
    if (r) out.push(r);
  }
  if (spec.privileged) {
    out.push({
      code: "privileged",
      detail: "privileged",
      reason:
        "a privileged container can reach every host device and kernel interface, so its state may live outside the container where CRIU cannot see or move it",
    });
  }
  for (const d of spec.devices) {
    out.push({
      code: "device",
      detail: d,
      reason: "a host device is passed through: its state is in the host's driver and hardware, which a checkpoint cannot carry to another node",
    });
  }
  if (spec.upperDir === null) {
    out.push({
      code: "storage-driver",
      detail: "no overlay upper dir",
      reason: "the writable layer is only copied for the overlay2 storage driver; on another driver the container's files would be lost",
    });
  }
  return out;
}
