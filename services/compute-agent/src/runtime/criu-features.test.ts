import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkMemoryPreCopy, checkPostCopy, herdRuncVersion, LAZY_PIPE_BYTES, parseDirtyTrackCheck, postCopyVerdict, type PostCopyProbes } from "./criu-features.js";

describe("CRIU dirty-tracking check", () => {
  it("reads CRIU 4.2's refusal on a kernel without soft-dirty tracking", () => {
    const r = parseDirtyTrackCheck(1, "", "Warn  (criu/cr-check.c:824): Dirty tracking is OFF. Memory snapshot will not work.\n");
    assert.deepEqual(r, { available: false, detail: "Dirty tracking is OFF. Memory snapshot will not work." });
  });

  it("reads success", () => {
    assert.deepEqual(parseDirtyTrackCheck(0, "mem_dirty_track is supported\n", ""), { available: true, detail: "mem_dirty_track is supported" });
  });

  it("says the exit code when CRIU said nothing", () => {
    assert.deepEqual(parseDirtyTrackCheck(2, "", ""), { available: false, detail: "criu check exited 2" });
  });

  it("counts a CRIU that cannot run as unavailable, with the reason", async () => {
    const r = await checkMemoryPreCopy({ criuPath: "/nonexistent/criu", timeoutMs: 5_000 });
    assert.equal(r.available, false);
    assert.match(r.detail, /criu check could not run/);
  });
});

describe("post-copy check", () => {
  const ok = { code: 0, stdout: "uffd-noncoop is supported\n", stderr: "" };
  const wrapper = { code: 0, stdout: "herd-runc 1 (real runc: /usr/sbin/runc)\n", stderr: "" };
  const cases: { name: string; probes: PostCopyProbes; available: boolean; detail: RegExp }[] = [
    { name: "all present", probes: { criu: ok, pipeMaxSize: 4194304, runcWrapper: wrapper }, available: true, detail: /uffd-noncoop.*4194304.*herd-runc 1/ },
    {
      name: "kernel without non-cooperative userfaultfd",
      probes: { criu: { code: 1, stdout: "", stderr: "Error (criu/cr-check.c:1329): UFFD is not supported\n" }, pipeMaxSize: 4194304, runcWrapper: wrapper },
      available: false,
      detail: /lazy pages here: UFFD is not supported$/,
    },
    {
      name: "the sandbox's 1 MiB pipe limit",
      probes: { criu: ok, pipeMaxSize: 1048576, runcWrapper: wrapper },
      available: false,
      detail: /pipe-max-size is 1048576, below the 3354624/,
    },
    {
      name: "exactly CRIU's pipe size is enough",
      probes: { criu: ok, pipeMaxSize: LAZY_PIPE_BYTES, runcWrapper: wrapper },
      available: true,
      detail: /3354624/,
    },
    {
      name: "the distribution's runc answers an unknown flag",
      probes: { criu: ok, pipeMaxSize: 4194304, runcWrapper: { code: 1, stdout: "", stderr: "flag provided but not defined" } },
      available: false,
      detail: /not Herd's wrapper/,
    },
    {
      name: "CRIU missing",
      probes: { criu: { error: "spawn criu ENOENT" }, pipeMaxSize: 4194304, runcWrapper: wrapper },
      available: false,
      detail: /could not run: spawn criu ENOENT/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = postCopyVerdict(c.probes);
      assert.equal(r.available, c.available);
      assert.match(r.detail, c.detail);
    });
  }

  it("reads the pipe limit from the file it is given", async () => {
    const r = await checkPostCopy({ criuPath: "/nonexistent/criu", pipeMaxSizeFile: "/nonexistent/pipe-max-size", timeoutMs: 5_000 });
    assert.equal(r.available, false);
    assert.match(r.detail, /criu check could not run/);
  });
});

describe("runc wrapper version", () => {
  const cases: Array<[string, number]> = [
    ["herd-runc 3 (real runc: /usr/sbin/runc)\n", 3],
    ["herd-runc 2 (real runc: /usr/sbin/runc)", 2],
    ["herd-runc 12", 12],
    ["runc version 1.1.12", 0],
    ["", 0],
    ["herd-runcx 3", 0],
  ];
  for (const [stdout, version] of cases) {
    it(`reads ${JSON.stringify(stdout)} as ${version}`, () => assert.equal(herdRuncVersion(stdout), version));
  }
});
