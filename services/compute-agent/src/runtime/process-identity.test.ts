import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { containerProcesses, hasSysResource, identityRefusals, type ProcessIdentity } from "./process-identity.js";

const root = (pid: number, command = "app"): ProcessIdentity => ({ pid, command, uids: [0, 0, 0], gids: [0, 0, 0] });
const redis: ProcessIdentity = { pid: 31253, command: "redis-server", uids: [101, 101, 101], gids: [103, 103, 103] };

describe("process identity", () => {
  it("reads CAP_SYS_RESOURCE from a CapEff mask", () => {
    assert.equal(hasSysResource("000001ffffffffff"), true);
    assert.equal(hasSysResource("000001fffeffffff"), false); // this sandbox's root: bit 24 clear
    assert.equal(hasSysResource(""), false);
  });

  it("refuses another user's process when the agent lacks CAP_SYS_RESOURCE, naming it and the way out", () => {
    const [r, ...more] = identityRefusals({ uid: 0, gid: 0, sysResource: false }, [root(31193, "tini"), redis]);
    assert.equal(more.length, 0);
    assert.equal(r?.code, "process-identity");
    assert.match(r?.detail ?? "", /pid 31253 \(redis-server\) runs as uid 101 gid 103/);
    assert.doesNotMatch(r?.detail ?? "", /tini/);
    assert.match(r?.reason ?? "", /CAP_SYS_RESOURCE/);
  });

  it("refuses nothing with the capability, or when every process is the agent's own user", () => {
    assert.deepEqual(identityRefusals({ uid: 0, gid: 0, sysResource: true }, [redis]), []);
    assert.deepEqual(identityRefusals({ uid: 0, gid: 0, sysResource: false }, [root(1), root(2)]), []);
  });

  it("counts a process that only switched its saved or effective id", () => {
    const setuid: ProcessIdentity = { pid: 7, command: "su", uids: [0, 1000, 0], gids: [0, 0, 0] };
    assert.equal(identityRefusals({ uid: 0, gid: 0, sysResource: false }, [setuid]).length, 1);
  });

  describe("containerProcesses (a fake procfs)", () => {
    let proc = "";
    after(() => rm(proc, { recursive: true, force: true }));
    it("lists the processes that share the init's pid namespace, with their ids", async () => {
      proc = await mkdtemp(join(tmpdir(), "fake-proc-"));
      const add = async (pid: number, ns: string, name: string, uid: number) => {
        await mkdir(join(proc, String(pid), "ns"), { recursive: true });
        await symlink(ns, join(proc, String(pid), "ns", "pid"));
        await writeFile(join(proc, String(pid), "status"), `Name:\t${name}\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
      };
      await add(100, "pid:[4026532001]", "tini", 0);
      await add(101, "pid:[4026532001]", "redis-server", 101);
      await add(200, "pid:[4026531836]", "sshd", 0);
      await mkdir(join(proc, "self"));
      const ps = await containerProcesses(100, proc);
      assert.deepEqual(
        ps.map((p) => [p.pid, p.command, p.uids[0]]).sort(),
        [
          [100, "tini", 0],
          [101, "redis-server", 101],
        ],
      );
      assert.deepEqual(await containerProcesses(999, proc), []);
    });
  });
});
