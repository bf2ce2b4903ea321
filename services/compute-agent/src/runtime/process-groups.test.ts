import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLogger } from "../../../../shared/src/logger.js";
import { ProcessGroups } from "./process-groups.js";

const log = createLogger({ level: "error", format: "text" });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const waitUntil = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

test("a restarted agent kills the groups its killed predecessor left, but lets a keyed dump finish", async () => {
  const dir = mkdtempSync(join(tmpdir(), "herd-pg-"));
  const file = join(dir, "groups.json");
  try {
    const first = new ProcessGroups(file, log);
    const run = first.runner();
    let copyPid = 0;
    let dumpPid = 0;
    // Two long processes, as if the agent died while they ran (we never await them).
    const copy = run("sleep", ["30"], { timeoutMs: 60_000, onGroup: (g) => (copyPid = g ?? copyPid) });
    const dump = run("sleep", ["1"], { timeoutMs: 60_000, key: "dump:c1", onGroup: (g) => (dumpPid = g ?? dumpPid) });
    copy.catch(() => undefined);
    dump.catch(() => undefined);
    assert.ok(await waitUntil(() => copyPid > 0 && dumpPid > 0));
    await new Promise((r) => setTimeout(r, 200)); // the registry file is written

    const second = new ProcessGroups(file, log);
    assert.equal(await second.reapStale(), 1, "the unkeyed copy is killed at once");
    assert.ok(await waitUntil(() => !alive(copyPid)), "copy killed");
    assert.ok(alive(dumpPid), "the dump is left to finish");
    const t0 = Date.now();
    await second.settled("dump:c1");
    assert.ok(Date.now() - t0 < 3_000);
    assert.equal(alive(dumpPid), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a keyed group past its deadline is killed by the successor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "herd-pg-"));
  const file = join(dir, "groups.json");
  try {
    let clock = Date.now();
    const first = new ProcessGroups(file, log, "/proc", () => clock);
    let pid = 0;
    first
      .runner()("sleep", ["30"], { timeoutMs: 5_000, key: "dump:c2", onGroup: (g) => (pid = g ?? pid) })
      .catch(() => undefined);
    assert.ok(await waitUntil(() => pid > 0));
    await new Promise((r) => setTimeout(r, 200));
    clock += 10_000; // the dump's deadline has passed
    const second = new ProcessGroups(file, log, "/proc", () => clock);
    assert.equal(await second.reapStale(), 1);
    assert.ok(await waitUntil(() => !alive(pid)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
