import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkMigratable } from "./check-migratable.js";
import type { ContainerSpec } from "./container-spec.js";

const base: ContainerSpec = {
  id: "a".repeat(64),
  name: "app",
  image: "herd/workload:1",
  imageId: `sha256:${"b".repeat(64)}`,
  cmd: [],
  entrypoint: null,
  env: [],
  labels: {},
  workingDir: "",
  user: "",
  hostname: "app",
  tty: false,
  openStdin: false,
  resources: {
    memoryBytes: 0,
    memorySwapBytes: 0,
    memoryReservationBytes: 0,
    nanoCpus: 0,
    cpuQuota: 0,
    cpuPeriod: 0,
    cpuShares: 0,
    cpusetCpus: "",
    cpusetMems: "",
    pidsLimit: null,
  },
  mounts: [],
  exposedPorts: [],
  ports: [],
  restartPolicy: { name: "no", maximumRetryCount: 0 },
  networkMode: "none",
  pidMode: "",
  ipcMode: "",
  utsMode: "",
  privileged: false,
  devices: [],
  capAdd: [],
  capDrop: [],
  securityOpt: [],
  upperDir: "/var/lib/docker/overlay2/x/diff",
  state: { status: "running", running: true, pid: 42 },
};

describe("checkMigratable", () => {
  const cases: Array<{ name: string; spec: Partial<ContainerSpec>; want: string[] }> = [
    { name: "plain container is migratable", spec: {}, want: [] },
    {
      name: "named volume is migratable",
      spec: { mounts: [{ kind: "volume", name: "data", destination: "/data", readOnly: false, driver: "local", source: "/v/data/_data" }] },
      want: [],
    },
    { name: "bind mount of a host path", spec: { mounts: [{ kind: "bind", source: "/srv", destination: "/srv", readOnly: true }] }, want: ["bind-mount"] },
    { name: "tmpfs mount", spec: { mounts: [{ kind: "tmpfs", destination: "/run", options: "" }] }, want: ["tmpfs"] },
    { name: "host network", spec: { networkMode: "host" }, want: ["shared-namespace"] },
    { name: "network of another container", spec: { networkMode: `container:${"c".repeat(64)}` }, want: ["shared-namespace"] },
    { name: "host pid and ipc", spec: { pidMode: "host", ipcMode: "host" }, want: ["shared-namespace", "shared-namespace"] },
    { name: "host uts", spec: { utsMode: "host" }, want: ["shared-namespace"] },
    { name: "privileged", spec: { privileged: true }, want: ["privileged"] },
    { name: "device passthrough", spec: { devices: ["/dev/fuse:/dev/fuse:rwm"] }, want: ["device"] },
    { name: "non-overlay storage", spec: { upperDir: null }, want: ["storage-driver"] },
    { name: "bridge and named networks are fine", spec: { networkMode: "bridge" }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const refusals = checkMigratable({ ...base, ...c.spec });
      assert.deepEqual(
        refusals.map((r) => r.code),
        c.want,
      );
      for (const r of refusals) assert.ok(r.reason.length > 20, "every refusal says why");
    });
  }

  it("names the other container in a shared-namespace refusal", () => {
    const [r] = checkMigratable({ ...base, pidMode: `container:${"d".repeat(64)}` });
    assert.equal(r?.detail, `pid=container:${"d".repeat(64)}`);
    assert.match(r?.reason ?? "", /dddddddddddd/);
  });
});
