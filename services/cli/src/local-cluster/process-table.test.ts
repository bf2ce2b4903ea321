import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findHerdProcesses, isHerdProcess, mountsUnder, parseMountPoints } from "./process-table.js";

describe("isHerdProcess", () => {
  const markers = ["/run/herd/", "/var/lib/herd/nodes/"];
  const cases: Array<[string, string, string[], boolean]> = [
    ["marked by environment", "containerd-shim-runc-v2 -id x", ["PATH=/bin", "HERD_CLUSTER_MARK=/var/lib/herd"], true],
    ["another cluster's mark", "node main.js", ["HERD_CLUSTER_MARK=/tmp/other"], false],
    ["our socket path on the command line", "containerd --config /run/herd/n1/docker/containerd/containerd.toml", [], true],
    ["a look-alike path is not ours", "dockerd --exec-root /run/herd-tel-x/exec", [], false],
    ["unrelated", "bash", ["HOME=/root"], false],
  ];
  for (const [name, cmdline, env, expected] of cases) {
    it(name, () => assert.equal(isHerdProcess(cmdline, env, "/var/lib/herd", markers), expected));
  }
});

describe("findHerdProcesses", () => {
  it("reads cmdline and environ from a proc tree, skipping kernel threads", () => {
    const root = mkdtempSync(join(tmpdir(), "herd-proc-"));
    try {
      const add = (pid: number, cmd: string[], env: string[]) => {
        mkdirSync(join(root, String(pid)));
        writeFileSync(join(root, String(pid), "cmdline"), cmd.join("\0"));
        writeFileSync(join(root, String(pid), "environ"), env.join("\0"));
      };
      add(101, ["dockerd", "--host", "unix:///run/herd/n1/docker.sock"], []);
      add(102, ["sleep", "1"], ["HERD_CLUSTER_MARK=/var/lib/herd"]);
      add(103, ["bash"], []);
      add(104, [], []);
      mkdirSync(join(root, "self"));
      const found = findHerdProcesses("/var/lib/herd", ["/run/herd/"], root);
      assert.deepEqual(found.map((p) => p.pid).sort(), [101, 102]);
      assert.equal(found.find((p) => p.pid === 101)?.cmdline, "dockerd --host unix:///run/herd/n1/docker.sock");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("mounts", () => {
  const mountinfo = [
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
    "90 22 254:0 /var/lib/herd/nodes/n1/docker /var/lib/herd/nodes/n1/docker rw - ext4 /dev/vda rw",
    "91 90 0:50 / /var/lib/herd/nodes/n1/docker/overlay2/abc/merged rw - overlay overlay rw",
    "92 22 0:4 net:[4026532] /run/herd/n1/docker/netns/1f2e rw - nsfs nsfs rw",
    "93 22 0:4 net:[4026533] /run/netns/herd-n1 rw - nsfs nsfs rw",
    "94 22 0:51 / /run/herd-tel-x/netns/aa rw - nsfs nsfs rw",
    "95 22 0:52 / /var/lib/herd/nodes/with\\040space rw - tmpfs tmpfs rw",
  ].join("\n");

  it("decodes escaped mount points", () => {
    assert.ok(parseMountPoints(mountinfo).includes("/var/lib/herd/nodes/with space"));
  });

  it("selects mounts under the given dirs only, deepest first", () => {
    assert.deepEqual(mountsUnder(parseMountPoints(mountinfo), ["/var/lib/herd/nodes", "/run/herd/"]), [
      "/var/lib/herd/nodes/n1/docker/overlay2/abc/merged",
      "/run/herd/n1/docker/netns/1f2e",
      "/var/lib/herd/nodes/n1/docker",
      "/var/lib/herd/nodes/with space",
    ]);
  });

  it("keeps a path mounted twice so it is unmounted twice", () => {
    assert.deepEqual(mountsUnder(["/run/herd/a", "/run/herd/a"], ["/run/herd"]), ["/run/herd/a", "/run/herd/a"]);
  });
});
