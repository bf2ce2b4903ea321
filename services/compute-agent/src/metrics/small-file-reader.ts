import { closeSync, openSync, readSync } from "node:fs";

const SURELY_COMPLETE_BELOW = 2048;

/** A file the reader may keep open between reads; `fd` is -1 while it is not open. */
export interface KeptFile {
  readonly path: string;
  fd: number;
}

/**
 * Reads small kernel files (cgroup, /proc) into one reused buffer. readFileSync would stat the file
 * and allocate a fresh buffer per call; these files report size 0 anyway, so it gains nothing.
 *
 * A {@link KeptFile} stays open and is re-read with pread at offset 0, which makes the kernel
 * regenerate its content: one syscall per read instead of open+read+close, about 2.5× cheaper
 * (measured: 7 cgroup files 14.6 µs vs 34.4 µs). At most `maxOpenFiles` stay open; beyond that
 * files are opened per read, so a node with thousands of containers cannot run out of descriptors.
 * Not safe for concurrent use; the sampler reads files one after the other.
 */
export class SmallFileReader {
  private buf: Buffer;
  private open = 0;

  constructor(
    initialSize = 16 * 1024,
    private readonly maxOpenFiles = 4096,
  ) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Descriptors currently kept open. */
  get openFiles(): number {
    return this.open;
  }

  /**
   * The file's text, or null when it does not exist. Other errors (ENODEV when a cgroup was
   * removed, ESRCH, EACCES) throw; a kept file is closed first.
   */
  read(file: string | KeptFile): string | null {
    if (typeof file === "string") return this.readOnce(file);
    if (file.fd < 0) {
      if (this.open >= this.maxOpenFiles) return this.readOnce(file.path);
      const fd = this.tryOpen(file.path);
      if (fd === null) return null;
      file.fd = fd;
      this.open++;
    }
    try {
      return this.readAll(file.fd, true);
    } catch (err) {
      this.close(file);
      throw err;
    }
  }

  close(file: KeptFile): void {
    if (file.fd < 0) return;
    try {
      closeSync(file.fd);
    } catch {
      // already unusable; nothing else to release
    }
    file.fd = -1;
    this.open--;
  }

  private readOnce(path: string): string | null {
    const fd = this.tryOpen(path);
    if (fd === null) return null;
    try {
      return this.readAll(fd, false);
    } finally {
      closeSync(fd);
    }
  }

  private tryOpen(path: string): number | null {
    try {
      return openSync(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  private readAll(fd: number, fromStart: boolean): string {
    let length = 0;
    for (;;) {
      const want = this.buf.length - length;
      const n = readSync(fd, this.buf, length, want, fromStart ? length : null);
      length += n;
      if (n === 0) break;
      // A seq file hands out at most one page per read when it has several records (net/dev
      // lines), so a short read is only surely the end when it is well under a page: records are
      // far shorter than 2 KiB, and single-record files (cgroup files, /proc/stat) come whole.
      // That saves the usual extra read() that returns 0 for nearly every file.
      if (n < want && length < SURELY_COMPLETE_BELOW) break;
      if (length < this.buf.length) continue;
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, length);
      this.buf = bigger;
    }
    return this.buf.toString("latin1", 0, length);
  }
}
