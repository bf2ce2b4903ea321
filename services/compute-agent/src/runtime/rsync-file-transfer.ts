import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
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
      `--password-file=${await this.ensurePasswordFile()}`,
    ];
    if (opts.delete ?? true) args.push("--delete");
    if (this.o.wholeFile ?? true) args.push("--whole-file");
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

  private run(args: string[], opts: TransferOptions): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.rsyncPath ?? "rsync", args, { stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
      const progress = opts.onProgress ? new RsyncProgressParser(opts.onProgress) : undefined;
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        const s = d.toString();
        stdout += s;
        progress?.push(s);
      });
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("error", (err) => reject(new ExternalError(`cannot run rsync: ${err.message}`, { cause: err })));
      child.once("close", (code, signal) => {
        progress?.flush();
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
      });
    });
  }
}
