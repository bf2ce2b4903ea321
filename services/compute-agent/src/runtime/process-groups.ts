import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Logger } from "../../../../shared/src/logger.js";
import { runProcess, type ProcessRunner, type RunProcessOptions } from "../../../../shared/src/process/run-process.js";

const Recorded = z.array(
  z.object({
    pgid: z.number().int().positive(),
    startTicks: z.string(),
    cmd: z.string(),
    /** Work that must not be cut short (a CRIU dump); others are killed at once by a successor. */
    key: z.string().optional(),
    deadlineAt: z.number(),
  }),
);
type Entry = z.infer<typeof Recorded>[number];

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
async function startTicks(procRoot: string, pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`${procRoot}/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export interface TrackedRunOptions extends RunProcessOptions {
  /**
   * Marks work a successor agent must let finish (until its deadline) rather than kill at once:
   * a CRIU dump killed half-way can leave its container frozen or worse, one left to finish
   * leaves complete images that the redelivered command reuses.
   */
  key?: string;
}

/**
 * The process groups this agent has started (runc with its CRIU, rsync, cp), recorded in a file
 * so that an agent restarted after being killed ends what its predecessor left behind. A
 * recorded group is touched only if its leader is still the same process (same start time),
 * never a recycled pid. Keyed groups (dumps) are left to finish until their own deadline;
 * `settled(key)` waits for them, so new work on the same container never runs beside them.
 */
export class ProcessGroups {
  private readonly live = new Map<number, Omit<Entry, "pgid">>();
  private readonly stale = new Map<number, Entry>();

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly procRoot = "/proc",
    private readonly now: () => number = Date.now,
  ) {}

  /** Kills the unkeyed groups a previous agent left running, and keyed ones past their deadline; returns how many. */
  async reapStale(): Promise<number> {
    let recorded: Entry[] = [];
    try {
      recorded = Recorded.parse(JSON.parse(readFileSync(this.file, "utf8")));
    } catch {
      recorded = [];
    }
    let killed = 0;
    for (const g of recorded) {
      if ((await startTicks(this.procRoot, g.pgid)) !== g.startTicks) continue;
      if (g.key && g.deadlineAt > this.now()) {
        this.log.warn("A previous agent's work is still running; letting it finish until its deadline", { pgid: g.pgid, cmd: g.cmd, key: g.key });
        this.stale.set(g.pgid, g);
        setTimeout(() => void this.killIfSame(g), g.deadlineAt - this.now()).unref();
        continue;
      }
      if (await this.killIfSame(g)) killed++;
    }
    this.write();
    return killed;
  }

  /** Resolves once no group of a previous agent with this key runs any more (it is killed at its deadline). */
  async settled(key: string): Promise<void> {
    for (;;) {
      const pending: Entry[] = [];
      for (const g of [...this.stale.values()].filter((e) => e.key === key)) {
        if ((await startTicks(this.procRoot, g.pgid)) === g.startTicks) pending.push(g);
        else this.stale.delete(g.pgid);
      }
      if (pending.length === 0) {
        this.write();
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A runner whose groups are recorded while they run. */
  runner(run: ProcessRunner = runProcess): (file: string, args: readonly string[], o: TrackedRunOptions) => ReturnType<ProcessRunner> {
    return (file, args, o) => {
      let pgid: number | null = null;
      const deadlineAt = this.now() + o.timeoutMs;
      return run(file, args, {
        ...o,
        onGroup: (g) => {
          o.onGroup?.(g);
          if (g !== null) {
            pgid = g;
            void this.add(g, { cmd: [file, ...args].join(" ").slice(0, 200), deadlineAt, ...(o.key ? { key: o.key } : {}) });
          } else if (pgid !== null) {
            this.live.delete(pgid);
            this.write();
          }
        },
      });
    };
  }

  private async killIfSame(g: Entry): Promise<boolean> {
    this.stale.delete(g.pgid);
    if ((await startTicks(this.procRoot, g.pgid)) !== g.startTicks) return false;
    try {
      process.kill(-g.pgid, "SIGKILL");
      this.log.warn("Killed a process group left by a previous agent", { pgid: g.pgid, cmd: g.cmd });
      return true;
    } catch {
      return false; // gone meanwhile
    }
  }

  private async add(pgid: number, e: Omit<Entry, "pgid" | "startTicks">): Promise<void> {
    const ticks = await startTicks(this.procRoot, pgid);
    if (ticks === undefined) return; // already ended
    this.live.set(pgid, { ...e, startTicks: ticks });
    this.write();
  }

  private write(): void {
    // Stale groups still running stay recorded: a third agent must find them too.
    const rows: Entry[] = [...[...this.live].map(([pgid, v]) => ({ pgid, ...v })), ...this.stale.values()];
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(rows), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
