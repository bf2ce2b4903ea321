import { join } from "node:path";
import { ExternalError } from "../../../../shared/src/errors.js";
import type { RawNodeCounters } from "./metric-source.js";
import { parseMeminfo, parseProcStatCpu } from "./proc-parsers.js";
import { SmallFileReader } from "./small-file-reader.js";

/** Reads the node's CPU ticks and memory from `<procRoot>/stat` and `<procRoot>/meminfo`. */
export class ProcNodeCounters {
  constructor(
    private readonly procRoot = "/proc",
    private readonly clock: () => number = () => performance.now(),
    private readonly reader = new SmallFileReader(),
  ) {}

  read(): RawNodeCounters {
    const stat = this.reader.read(join(this.procRoot, "stat"));
    const meminfo = this.reader.read(join(this.procRoot, "meminfo"));
    if (stat === null || meminfo === null) throw new ExternalError(`${this.procRoot}/stat or ${this.procRoot}/meminfo is missing`);
    const cpu = parseProcStatCpu(stat);
    const mem = parseMeminfo(meminfo);
    return {
      atMs: this.clock(),
      cpuCores: cpu.cores,
      cpuBusyTicks: cpu.busy,
      cpuTotalTicks: cpu.total,
      memTotalBytes: mem.totalBytes,
      memAvailableBytes: mem.availableBytes,
    };
  }
}
