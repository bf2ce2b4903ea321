import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileProcessedCommandStore } from "./processed-command-store.js";

import type { CommandResult } from "../../../../shared/src/contracts/events.js";

const result = (commandId: string): CommandResult => ({
  v: 1,
  kind: "command.result",
  nodeId: "n1",
  commandId,
  commandType: "migration.describe",
  ok: true,
  result: { env: ["SECRET=x"] },
  finishedAt: 1,
});
const mode = (p: string) => statSync(p).mode & 0o777;

describe("FileProcessedCommandStore", () => {
  it("keeps the journal private (0600) and reads back what it stored", () => {
    const dir = mkdtempSync(join(tmpdir(), "herd-journal-"));
    try {
      const path = join(dir, "agent", "processed-commands.jsonl");
      const store = new FileProcessedCommandStore(path);
      store.put(result("c1"));
      assert.equal(mode(path), 0o600);
      assert.equal(mode(join(dir, "agent")), 0o700);
      assert.equal(new FileProcessedCommandStore(path).get("c1")?.commandId, "c1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tightens a journal written world-readable by an older version", () => {
    const dir = mkdtempSync(join(tmpdir(), "herd-journal-"));
    try {
      const path = join(dir, "processed-commands.jsonl");
      writeFileSync(path, `${JSON.stringify(result("old"))}\n`, { mode: 0o644 });
      assert.equal(mode(path), 0o644);
      const store = new FileProcessedCommandStore(path);
      assert.equal(mode(path), 0o600);
      assert.equal(store.get("old")?.commandId, "old");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
