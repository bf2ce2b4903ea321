import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { runProcess, type ProcessRunner } from "../../../../shared/src/process/run-process.js";
import type { FileTransfer, TransferOptions, TransferStats, TransferTarget } from "./file-transfer.js";
import { parseRsyncStats, RsyncProgressParser } from "./parse-rsync-output.js";
import { DEFAULT_RSYNC_MODULE, DEFAULT_RSYNC_USER } from "./rsync-daemon.js";

export interface RsyncFileTransferOptions {
  /** The per-cluster transfer secret (the same the destination's RsyncDaemon uses). */
  secret: string;
  user?: string;
  module?: string;
  rsyncPath?: string;
  /** Where the password file is written (root-only temp dir by default). */
  secretsDir?: string;
  /** Send whole files instead of rsync's delta algorithm: faster on a LAN, where the wire is not the bottleneck. */
  wholeFile?: boolean;
  /** Longest one sync may take when the caller's signal sets no tighter bound. */
  timeoutMs?: number;
  run?: ProcessRunner;
  now?: () => number;
}

/** rsync's exit codes that a retry may fix (connection, timeouts, vanished files). */
const RETRYABLE_EXIT = new Set([5, 10, 12, 23, 24, 30, 35]);

/** {@link FileTransfer} with an rsync client talking to the destination's {@link RsyncDaemon}. */
export class RsyncFileTransfer implements FileTransfer {
  private passwordFile: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly o: RsyncFileTransferOptions,
    private readonly log: Logger,
  ) {
    this.now = o.now ?? Date.now;
  }

  async sync(localDir: string, target: TransferTarget, opts: TransferOptions = {}): Promise<TransferStats> {
    const path = target.path.replace(/^\/+|\/+$/g, "");
    if (path === "" || path.split("/").some((s) => s === ".." || s === ".")) {
      throw new ValidationError("target.path", `must be a relative path inside the staging area, got "${target.path}"`);
    }
    const url = `rsync://${this.o.user ?? DEFAULT_RSYNC_USER}@${target.address}:${target.port}/${this.o.module ?? DEFAULT_RSYNC_MODULE}/${path}/`;
    const args = [
      "-aHAXD",
      "--numeric-ids",
      "--mkpath",
      "--stats",
      "--info=progress2",
      "--timeout=120",
      "--contimeout=10",
      // Without it every run stalls twice on Nagle's algorithm against delayed ACKs (~40 ms
      // each: 90 ms for an empty sync instead of 10-20 ms, measured; the daemon sets it too).
      "--sockopts=TCP_NODELAY",
      `--password-file=${await this.ensurePasswordFile()}`,
    ];
    if (opts.delete ?? true) args.push("--delete");
    if (this.o.wholeFile ?? true) args.push("--whole-file");
    if (opts.verifyChecksum === false) args.push("--checksum-choice=none");
    if (opts.bandwidthLimitKiBps && opts.bandwidthLimitKiBps > 0) args.push(`--bwlimit=${Math.round(opts.bandwidthLimitKiBps)}`);
    args.push(`${localDir.replace(/\/+$/, "")}/`, url);

    this.log.debug("Syncing directory", { localDir, address: target.address, port: target.port, path });
    const t0 = this.now();
    const { code, stdout, stderr } = await this.run(args, opts);
    const durationMs = this.now() - t0;
    if (code !== 0) {
      this.log.warn("Failed to sync directory", { localDir, address: target.address, path, exitCode: code, stderr: stderr.trim() });
      throw new ExternalError(`rsync to ${target.address}:${target.port}/${path} failed (exit ${code}): ${stderr.trim().split("\n").slice(-2).join(" | ")}`, {
        retryable: RETRYABLE_EXIT.has(code),
      });
    }
    const stats = parseRsyncStats(stdout);
    if (!stats) throw new ExternalError("rsync succeeded but printed no --stats block", { retryable: false });
    this.log.debug("Synced directory", { localDir, path, durationMs, bytesSent: stats.bytesSent, files: stats.filesTransferred });
    return { ...stats, durationMs };
  }

  /** Deletes the password file. Idempotent. */
  async close(): Promise<void> {
    const p = this.passwordFile;
    this.passwordFile = undefined;
    if (p) await rm(join(await p, ".."), { recursive: true, force: true });
  }

  private ensurePasswordFile(): Promise<string> {
    this.passwordFile ??= (async () => {
      const dir = await mkdtemp(join(this.o.secretsDir ?? tmpdir(), "herd-rsync-"));
      const file = join(dir, "password");
      // rsync refuses a password file that others can read.
      await writeFile(file, `${this.o.secret}\n`, { mode: 0o600 });
      return file;
    })();
    return this.passwordFile;
  }

  private async run(args: string[], opts: TransferOptions): Promise<{ code: number; stdout: string; stderr: string }> {
    const progress = opts.onProgress ? new RsyncProgressParser(opts.onProgress) : undefined;
    const run = this.o.run ?? runProcess;
    // Only the --stats block at the end is parsed: the tail of stdout is enough.
    const out = await run(this.o.rsyncPath ?? "rsync", args, {
      timeoutMs: this.o.timeoutMs ?? 30 * 60_000,
      signal: opts.signal,
      onStdout: progress ? (d) => progress.push(d) : undefined,
    });
    progress?.flush();
    return out;
  }
}
