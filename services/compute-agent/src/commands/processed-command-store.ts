import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { CommandResult } from "../../../../shared/src/contracts/events.js";

/**
 * Remembers the results of commands already handled, so a redelivered command (after an agent
 * crash or a broker restart) is answered again instead of being run twice. Contract: `get`
 * returns what `put` stored, across process restarts.
 */
export interface ProcessedCommandStore {
  get(commandId: string): CommandResult | undefined;
  put(result: CommandResult): void;
}

/**
 * Append-only JSON lines on the node's disk; compacted to the newest `capacity` entries. Root
 * only (0600 in a 0700 dir): results carry container specs, environment variables included.
 */
export class FileProcessedCommandStore implements ProcessedCommandStore {
  private readonly entries = new Map<string, CommandResult>();
  private appended = 0;

  constructor(
    private readonly path: string,
    private readonly capacity = 5_000,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (existsSync(path)) {
      // A journal written before files were made private.
      chmodSync(path, 0o600);
      for (const line of readFileSync(path, "utf8").split("\n")) {
        if (!line.trim()) continue;
        try {
          const r = JSON.parse(line) as CommandResult;
          this.entries.set(r.commandId, r);
        } catch {
          // a torn last line after a crash: the command it recorded will simply run again
        }
      }
      this.trim();
    }
  }

  get(commandId: string): CommandResult | undefined {
    return this.entries.get(commandId);
  }

  put(result: CommandResult): void {
    this.entries.set(result.commandId, result);
    appendFileSync(this.path, `${JSON.stringify(result)}\n`, { mode: 0o600 });
    if (++this.appended >= this.capacity) {
      this.appended = 0;
      this.trim();
      writeFileSync(this.path, [...this.entries.values()].map((r) => JSON.stringify(r)).join("\n") + "\n", { mode: 0o600 });
    }
  }

  private trim(): void {
    const excess = this.entries.size - this.capacity;
    if (excess <= 0) return;
    let i = 0;
    for (const key of this.entries.keys()) {
      if (i++ >= excess) break;
      this.entries.delete(key);
    }
  }
}

export class InMemoryProcessedCommandStore implements ProcessedCommandStore {
  private readonly entries = new Map<string, CommandResult>();
  get(commandId: string): CommandResult | undefined {
    return this.entries.get(commandId);
  }
  put(result: CommandResult): void {
    this.entries.set(result.commandId, result);
  }
}
