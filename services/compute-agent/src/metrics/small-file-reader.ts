import { closeSync, openSync, readSync } from "node:fs";

/**
 * Reads small kernel files (cgroup, /proc) into one reused buffer. readFileSync would stat the file
 * and allocate a fresh buffer per call; these files report size 0 anyway, so it gains nothing.
 * Not safe for concurrent use; the sampler reads files one after the other.
 */
export class SmallFileReader {
  private buf: Buffer;

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** The file's text, or null when it does not exist. Other errors (ENODEV, ESRCH, EACCES) throw. */
  read(path: string): string | null {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    try {
      let length = 0;
      for (;;) {
        if (length === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger);
          this.buf = bigger;
        }
        // Kernel seq files hand out at most a page per read, so keep reading until end of file.
        const n = readSync(fd, this.buf, length, this.buf.length - length, null);
        if (n === 0) break;
        length += n;
      }
      return this.buf.toString("latin1", 0, length);
    } finally {
      closeSync(fd);
    }
  }
}
