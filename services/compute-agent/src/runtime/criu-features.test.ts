import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkMemoryPreCopy, parseDirtyTrackCheck } from "./criu-features.js";

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
