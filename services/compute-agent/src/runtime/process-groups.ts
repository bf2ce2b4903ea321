import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Logger } from "../../../../shared/src/logger.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";

const Recorded = z.array(z.object({ pgid: z.number().int().positive(), startTicks: z.string(), cmd: z.string() }));
type Recorded = z.infer<typeof Recorded>;

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

/**
 * The process groups this agent has started (runc with its CRIU, rsync, cp), recorded in a file
 * so that an agent restarted after being killed can end the ones its predecessor left behind:
 * an orphaned CRIU keeps a container ptraced and frozen. A recorded group is killed only if its
 * leader is still the same process (same start time), never a recycled pid.
 */
export class ProcessGroups {
  private readonly live = new Map<number, { startTicks: string; cmd: string }>();

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly procRoot = "/proc",
  ) {}

  /** Kills the groups a previous agent left running; returns how many. */
  async reapStale(): Promise<number> {
    let recorded: Recorded = [];
    try {
      recorded = Recorded.parse(JSON.parse(readFileSync(this.file, "utf8")));
    } catch {
      recorded = [];
    }
    let killed = 0;
    for (const g of recorded) {
      if ((await startTicks(this.procRoot, g.pgid)) !== g.startTicks) continue;
      try {
        process.kill(-g.pgid, "SIGKILL");
        killed++;
        this.log.warn("Killed a process group left by a previous agent", { pgid: g.pgid, cmd: g.cmd });
      } catch {
        // gone meanwhile
      }
    }
    this.write();
    return killed;
  }

  /** A runner whose groups are recorded while they run. */
  runner(run: ProcessRunner = runProcess): ProcessRunner {
    return (file, args, o) => {
      let pgid: number | null = null;
      return run(file, args, {
        ...o,
        onGroup: (g) => {
          o.onGroup?.(g);
          if (g !== null) {
            pgid = g;
            void this.add(g, [file, ...args].join(" ").slice(0, 200));
          } else if (pgid !== null) {
            this.live.delete(pgid);
            this.write();
          }
        },
      });
    };
  }

  private async add(pgid: number, cmd: string): Promise<void> {
    const ticks = await startTicks(this.procRoot, pgid);
    if (ticks === undefined) return; // already ended
    this.live.set(pgid, { startTicks: ticks, cmd });
    this.write();
  }

  private write(): void {
    const rows = [...this.live].map(([pgid, v]) => ({ pgid, ...v }));
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(rows), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
