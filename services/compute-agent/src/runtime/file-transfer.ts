/** Where a directory goes: a node's transfer endpoint and a path inside its staging area. */
export interface TransferTarget {
  /** Host or IP of the destination node's transfer endpoint. */
  address: string;
  port: number;
  /** Relative path under the destination's staging area, e.g. "mig-42/upper". No "..". */
  path: string;
}

export interface TransferProgress {
  bytes: number;
  percent: number;
}

export interface TransferStats {
  /** Bytes that went over the wire (both directions). */
  bytesSent: number;
  bytesReceived: number;
  /** Size of the files whose content was (re)sent. */
  transferredFileBytes: number;
  filesTransferred: number;
  totalFileBytes: number;
  durationMs: number;
}

export interface TransferOptions {
  /** KiB/s; 0 or undefined = unlimited. */
  bandwidthLimitKiBps?: number;
  /** Remove files at the destination that are gone at the source (exact mirror). Default true. */
  delete?: boolean;
  /**
   * Check each transferred file's whole-file checksum at the destination (default true). False
   * only where time counts more: the frozen container's final sync (the checksum costs 0.4-0.7 s
   * per 512 MB here, on both ends; the bytes are still covered by TCP's own checksum).
   */
  verifyChecksum?: boolean;
  onProgress?: (p: TransferProgress) => void;
  signal?: AbortSignal;
}

/**
 * Copies a local directory's tree to another node, authenticated, preserving owners, modes,
 * hard links, xattrs and device nodes (overlay whiteouts are device nodes and xattrs). A second
 * sync of the same pair only sends what changed. Errors: ExternalError (retryable).
 */
export interface FileTransfer {
  sync(localDir: string, target: TransferTarget, opts?: TransferOptions): Promise<TransferStats>;
}
