import assert from "node:assert/strict";
import { describe, it } from "node:test";
import sidecarInspect from "./fixtures/inspect-sidecar.json" with { type: "json" };
import webInspect from "./fixtures/inspect-web.json" with { type: "json" };
import { mapCreateOptions } from "./map-create-options.js";
import { mapInspectResult, type RawInspectResult } from "./map-inspect-result.js";

// Both fixtures were recorded from Docker 20.10 (`docker inspect`) on containers created with:
// web-1:   --network rtnet -p 127.0.0.1:8080:80/tcp -p 5353:53/udp --expose 9000 -e APP_MODE=prod
//          -e 'GREETING=hello world' -l tier=web -l herd.io/owner=team-a -w /srv -u 1000:1000
//          -h web-host --entrypoint /usr/local/bin/herd-counter -m 256m --memory-swap 512m
//          --memory-reservation 128m --cpu-quota 50000 --cpu-period 100000 --cpu-shares 512
//          --cpuset-cpus 0-1 --pids-limit 64 -v appdata:/data -v /tmp/herd-rt/hostdir:/host:ro
//          --mount type=tmpfs,destination=/scratch --restart on-failure:3 --cap-add NET_ADMIN
//          --security-opt no-new-privileges herd/rt-test:1 64 100
// sidecar: --network container:web-1 --pid host --ipc container:web-1 --privileged
//          --device /dev/null:/dev/mynull --tmpfs /run:size=1m herd/rt-test:1
const web = webInspect as unknown as RawInspectResult;
const sidecar = sidecarInspect as unknown as RawInspectResult;
const WEB_ID = "0a452f375c76575f9f2b925eae00c3795883335670de7372106ff65ed4d31f83";

describe("mapInspectResult", () => {
  const spec = mapInspectResult(web);

  it("maps identity, image and process config", () => {
    assert.equal(spec.id, WEB_ID);
    assert.equal(spec.name, "web-1");
    assert.equal(spec.image, "herd/rt-test:1");
    assert.equal(spec.imageId, "sha256:620ff10952ca21dbc19822170af3c492776db2c57236ee5632b6bebe15a7cdf2");
    assert.deepEqual(spec.entrypoint, ["/usr/local/bin/herd-counter"]);
    assert.deepEqual(spec.cmd, ["64", "100"]);
    assert.deepEqual(spec.env, ["APP_MODE=prod", "GREETING=hello world"]);
    assert.deepEqual(spec.labels, { tier: "web", "herd.io/owner": "team-a" });
    assert.equal(spec.workingDir, "/srv");
    assert.equal(spec.user, "1000:1000");
    assert.equal(spec.hostname, "web-host");
  });

  it("maps resource limits", () => {
    assert.deepEqual(spec.resources, {
      memoryBytes: 256 * 2 ** 20,
      memorySwapBytes: 512 * 2 ** 20,
      memoryReservationBytes: 128 * 2 ** 20,
      nanoCpus: 0,
      cpuQuota: 50_000,
      cpuPeriod: 100_000,
      cpuShares: 512,
      cpusetCpus: "0-1",
      cpusetMems: "",
      pidsLimit: 64,
    });
  });

  it("tells named volumes, bind mounts and tmpfs apart", () => {
    assert.deepEqual(spec.mounts, [
      { kind: "volume", name: "appdata", destination: "/data", readOnly: false, driver: "local", source: "/tmp/herd-rt/a/docker/volumes/appdata/_data" },
      { kind: "bind", source: "/tmp/herd-rt/hostdir", destination: "/host", readOnly: true },
      { kind: "tmpfs", destination: "/scratch", options: "" },
    ]);
  });

  it("maps ports, restart policy, network and the writable layer", () => {
    assert.deepEqual(spec.ports, [
      { containerPort: 53, protocol: "udp", hostIp: "", hostPort: "5353" },
      { containerPort: 80, protocol: "tcp", hostIp: "127.0.0.1", hostPort: "8080" },
    ]);
    assert.deepEqual(spec.exposedPorts, ["53/udp", "80/tcp", "9000/tcp"]);
    assert.deepEqual(spec.restartPolicy, { name: "on-failure", maximumRetryCount: 3 });
    assert.equal(spec.networkMode, "rtnet");
    assert.equal(spec.pidMode, "");
    assert.equal(spec.ipcMode, "", "Docker's 'private' IPC mode is the container's own namespace");
    assert.deepEqual(spec.capAdd, ["CAP_NET_ADMIN"]);
    assert.deepEqual(spec.securityOpt, ["no-new-privileges"]);
    assert.match(spec.upperDir ?? "", /\/overlay2\/[0-9a-f]{64}\/diff$/);
    assert.deepEqual(spec.state, { status: "created", running: false, pid: 0 });
  });

  it("maps shared namespaces, privileges, devices and --tmpfs mounts", () => {
    const s = mapInspectResult(sidecar);
    assert.equal(s.networkMode, `container:${WEB_ID}`);
    assert.equal(s.ipcMode, `container:${WEB_ID}`);
    assert.equal(s.pidMode, "host");
    assert.equal(s.privileged, true);
    assert.deepEqual(s.devices, ["/dev/null:/dev/mynull:rwm"]);
    assert.deepEqual(s.mounts, [{ kind: "tmpfs", destination: "/run", options: "size=1m" }]);
    assert.equal(s.entrypoint, null, "no --entrypoint: the image's own is kept");
    assert.equal(s.hostname, "1cdb28df1936");
  });

  it("treats a missing or non-positive pids limit as no limit", () => {
    for (const PidsLimit of [null, 0, -1]) {
      const s = mapInspectResult({ ...web, HostConfig: { ...web.HostConfig, PidsLimit } });
      assert.equal(s.resources.pidsLimit, null);
    }
  });

  it("has no upper dir on a non-overlay storage driver", () => {
    const s = mapInspectResult({ ...web, GraphDriver: { Name: "vfs", Data: null } });
    assert.equal(s.upperDir, null);
  });

  it("keeps a static address on the container's network, and only a static one", () => {
    assert.equal(spec.ipv4Address, undefined, "web-1 got its address from the engine");
    const pinned: RawInspectResult = {
      ...web,
      HostConfig: { ...web.HostConfig, NetworkMode: "herd-cluster" },
      NetworkSettings: { Networks: { "herd-cluster": { IPAMConfig: { IPv4Address: "10.77.0.130" }, IPAddress: "" } } },
    };
    const s = mapInspectResult(pinned);
    assert.equal(s.ipv4Address, "10.77.0.130");
    assert.deepEqual(mapCreateOptions(s).NetworkingConfig, { EndpointsConfig: { "herd-cluster": { IPAMConfig: { IPv4Address: "10.77.0.130" } } } });
  });

  it("rejects an unknown restart policy", () => {
    assert.throws(() => mapInspectResult({ ...web, HostConfig: { ...web.HostConfig, RestartPolicy: { Name: "sometimes" } } }), /restart policy/);
  });
});

describe("mapCreateOptions", () => {
  it("carries the whole config into a create body", () => {
    const body = mapCreateOptions(mapInspectResult(web));
    assert.equal(body.name, "web-1");
    assert.equal(body.Image, "herd/rt-test:1");
    assert.deepEqual(body.Entrypoint, ["/usr/local/bin/herd-counter"]);
    assert.deepEqual(body.Cmd, ["64", "100"]);
    assert.equal(body.Hostname, "web-host");
    assert.deepEqual(body.ExposedPorts, { "53/udp": {}, "80/tcp": {}, "9000/tcp": {} });
    const h = body.HostConfig ?? {};
    assert.deepEqual(h.PortBindings, { "53/udp": [{ HostIp: "", HostPort: "5353" }], "80/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] });
    assert.deepEqual(
      h.Mounts?.map((m) => [m.Type, m.Source, m.Target, m.ReadOnly]),
      [
        ["volume", "appdata", "/data", false],
        ["bind", "/tmp/herd-rt/hostdir", "/host", true],
      ],
    );
    assert.deepEqual(h.Tmpfs, { "/scratch": "" });
    assert.equal(h.Memory, 256 * 2 ** 20);
    assert.equal(h.CpuQuota, 50_000);
    assert.equal(h.PidsLimit, 64);
    assert.equal(h.IpcMode, "private");
    assert.deepEqual(h.RestartPolicy, { Name: "on-failure", MaximumRetryCount: 3 });
  });

  it("leaves the image's entrypoint alone when the container did not override it", () => {
    const body = mapCreateOptions(mapInspectResult(sidecar));
    assert.equal("Entrypoint" in body, false);
    assert.deepEqual(body.HostConfig?.Devices, [{ PathOnHost: "/dev/null", PathInContainer: "/dev/mynull", CgroupPermissions: "rwm" }]);
  });
});
