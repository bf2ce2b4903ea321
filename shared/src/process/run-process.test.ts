import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { ExternalError, TimeoutError } from "../errors.js";
import { runChecked, runProcess } from "./run-process.js";

const alive = (pid: number) => {
  try {
    // A zombie still answers kill(0): look at its state.
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

/** Live (non-zombie) processes whose process group is `pgid`. */
const membersOf = (pgid: number) =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return f[0] !== "Z" && Number(f[2]) === pgid;
      } catch {
        return false;
      }
    }).length;

test("a process past its deadline is killed with its whole group, grandchildren included", async () => {
  let pgid = 0;
  const started = Date.now();
  // The child starts a grandchild that ignores SIGTERM, writes its pid, then waits.
  const run = runProcess("sh", ["-c", "sh -c 'trap \"\" TERM; echo $$; exec sleep 60' & wait"], {
    timeoutMs: 300,
    killGraceMs: 200,
    onGroup: (g) => (pgid = g ?? pgid),
  });
  await assert.rejects(run, (err: unknown) => err instanceof TimeoutError && /deadline of 300 ms/.test((err as Error).message));
  assert.ok(Date.now() - started < 5_000);
  assert.ok(pgid > 0);
  for (let i = 0; i < 100 && membersOf(pgid) > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(membersOf(pgid), 0, "no process of the group survives");
});

test("aborting the signal kills the group at once", async () => {
  const ac = new AbortController();
  const run = runProcess("sleep", ["60"], { timeoutMs: 60_000, signal: ac.signal });
  setTimeout(() => ac.abort(new Error("the command's deadline passed")), 50);
  await assert.rejects(run, TimeoutError);
});

test("a normal exit resolves with the code and output; the group is cleaned after the leader", async () => {
  let grandchild = 0;
  const out = await runProcess("sh", ["-c", "sleep 60 & echo $!; exit 3"], { timeoutMs: 5_000 });
  grandchild = Number(out.stdout.trim());
  assert.equal(out.code, 3);
  assert.ok(grandchild > 0);
  for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(grandchild), false, "a background child does not outlive its leader");
});

test("a program that does not exist is an ExternalError, not a hang", async () => {
  await assert.rejects(runProcess("/nonexistent/herd-program", [], { timeoutMs: 1_000 }), /cannot run/);
});

test("runChecked: success returns the outcome, a non-zero exit throws with stderr's tail, the deadline still applies", async () => {
  assert.equal((await runChecked("sh", ["-c", "echo fine"], { timeoutMs: 5_000 })).stdout, "fine\n");
  await assert.rejects(
    runChecked("sh", ["-c", "echo boom >&2; exit 3"], { timeoutMs: 5_000 }),
    (err: unknown) => err instanceof ExternalError && /exited 3: boom/.test(err.message),
  );
  await assert.rejects(runChecked("sleep", ["5"], { timeoutMs: 200 }), TimeoutError);
});
