import type { TransferProgress } from "./file-transfer.js";

export interface RsyncStats {
  bytesSent: number;
  bytesReceived: number;
  transferredFileBytes: number;
  filesTransferred: number;
  totalFileBytes: number;
}

function statNumber(text: string, label: string): number | undefined {
  // rsync prints "Total bytes sent: 20,976,819" (thousands separators since 3.1).
  const m = new RegExp(`^${label}:\\s*([\\d,.]+)`, "m").exec(text);
  if (!m?.[1]) return undefined;
  const n = Number(m[1].replace(/[,.]/g, ""));
  return Number.isFinite(n) ? n : undefined;
}

/** Reads the `--stats` block of an rsync run; undefined if the block is missing (e.g. rsync failed). */
export function parseRsyncStats(output: string): RsyncStats | undefined {
  const bytesSent = statNumber(output, "Total bytes sent");
  const bytesReceived = statNumber(output, "Total bytes received");
  if (bytesSent === undefined || bytesReceived === undefined) return undefined;
  return {
    bytesSent,
    bytesReceived,
    transferredFileBytes: statNumber(output, "Total transferred file size") ?? 0,
    filesTransferred: statNumber(output, "Number of regular files transferred") ?? 0,
    totalFileBytes: statNumber(output, "Total file size") ?? 0,
  };
}

const PROGRESS = /^\s*([\d,]+)\s+(\d{1,3})%/;

/**
 * Incremental parser for `--info=progress2`, whose updates are separated by carriage returns and
 * may be split across stdout chunks. Calls `onProgress` for each complete update.
 */
export class RsyncProgressParser {
  private pending = "";

  constructor(private readonly onProgress: (p: TransferProgress) => void) {}

  push(chunk: string): void {
    const parts = (this.pending + chunk).split(/[\r\n]/);
    this.pending = parts.pop() ?? "";
    for (const part of parts) this.line(part);
  }

  flush(): void {
    if (this.pending) this.line(this.pending);
    this.pending = "";
  }

  private line(line: string): void {
    const m = PROGRESS.exec(line);
    if (!m?.[1] || !m[2]) return;
    this.onProgress({ bytes: Number(m[1].replace(/,/g, "")), percent: Number(m[2]) });
  }
}
