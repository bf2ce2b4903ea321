import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { criuLogSummary } from "./runc-checkpointer.js";

describe("criuLogSummary", () => {
  it("puts CRIU's first errors first, not only the unwinding at the end", () => {
    const log = [
      "(00.030136) Error (criu/util.c:1534): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
      "(00.040000) Dumping path for 1 fd via self 14 [/]",
      "(00.052430) Error (criu/cr-dump.c:389): Can't get rlimit 0: Operation not permitted",
      "(00.052433) Error (criu/cr-dump.c:1584): Dump core (pid: 31253) failed with -1",
      "(00.242138) \tUnseizing 31193 into 1",
      "(00.242294) Error (criu/cr-dump.c:1975): Dumping FAILED.",
    ].join("\n");
    const s = criuLogSummary(log);
    assert.match(s, /^\(00\.030136\) Error .*RLIMIT_NOFILE.* \| .*Can't get rlimit 0.* \| .*Dump core \(pid: 31253\).* \| .*Dumping FAILED\.$/);
    assert.doesNotMatch(s, /Unseizing/);
  });

  it("falls back to the last lines when CRIU logged no error", () => {
    assert.equal(criuLogSummary("a\nb\nc\nd\n"), "b | c | d");
    assert.equal(criuLogSummary(""), "");
  });
});
