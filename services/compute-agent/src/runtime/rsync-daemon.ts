import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";

export interface RsyncDaemonOptions {
  /** Root of the one writable module: incoming transfers land under it. */
  stagingDir: string;
  /** Where the generated config, secrets file and log go (root-only). */
  configDir: string;
  /** The node's own address: the daemon listens there only. */
  address: string;
  port: number;
  /** The per-cluster transfer secret; clients authenticate with the same one. */
  secret: string;
  user?: string;
  /** Who may connect, in rsync's syntax (e.g. "10.77.0.0/24"). Everyone else is denied. */
  hostsAllow: string[];
  module?: string;
  rsyncPath?: string;
}

export const DEFAULT_RSYNC_MODULE = "herd";
export const DEFAULT_RSYNC_USER = "herd";

/**
 * The receiving end of {@link RsyncFileTransfer}: one rsync daemon per node, bound to the node's
 * address, with one module rooted at the node's staging dir. Authenticated with a per-cluster
 * secret and limited to the cluster's subnet. Runs as root (so owners, device nodes and
 * trusted.* xattrs of overlay layers survive) inside a chroot of the staging dir.
 */
export class RsyncDaemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(
    private readonly o: RsyncDaemonOptions,
    private readonly log: Logger,
  ) {
    if (o.secret.length < 16) throw new ValidationError("rsync secret", "must be at least 16 characters");
    if (/[\s:]/.test(o.user ?? DEFAULT_RSYNC_USER)) throw new ValidationError("rsync user", "must not contain spaces or ':'");
    if (o.hostsAllow.length === 0) throw new ValidationError("rsync hostsAllow", "must name at least one network");
  }

  get endpoint(): { address: string; port: number } {
    return { address: this.o.address, port: this.o.port };
  }

  async start(): Promise<void> {
    if (this.child) return;
    const { configDir, stagingDir } = this.o;
    const user = this.o.user ?? DEFAULT_RSYNC_USER;
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    await mkdir(stagingDir, { recursive: true, mode: 0o700 });
    const secrets = join(configDir, "rsyncd.secrets");
    // rsync refuses a secrets file readable by others ("strict modes").
    await writeFile(secrets, `${user}:${this.o.secret}\n`, { mode: 0o600 });
    const conf = join(configDir, "rsyncd.conf");
    await writeFile(
      conf,
      [
        `pid file = ${join(configDir, "rsyncd.pid")}`,
        "use chroot = yes",
        "numeric ids = yes",
        // Without this the daemon resolves every client address; with no DNS that costs ~10 s a connection.
        "reverse lookup = no",
        "max connections = 16",
        `lock file = ${join(configDir, "rsyncd.lock")}`,
        `[${this.o.module ?? DEFAULT_RSYNC_MODULE}]`,
        `  path = ${stagingDir}`,
        "  read only = false",
        "  list = false",
        "  uid = root",
        "  gid = root",
        `  auth users = ${user}`,
        `  secrets file = ${secrets}`,
        "  strict modes = yes",
        `  hosts allow = ${this.o.hostsAllow.join(" ")}`,
        "  hosts deny = *",
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const args = [
      "--daemon",
      "--no-detach",
      `--config=${conf}`,
      `--address=${this.o.address}`,
      `--port=${this.o.port}`,
      `--log-file=${join(configDir, "rsyncd.log")}`,
    ];
    this.log.debug("Starting rsync daemon", { address: this.o.address, port: this.o.port, stagingDir });
    const child = spawn(this.o.rsyncPath ?? "rsync", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await this.accepts()) {
        this.log.debug("Started rsync daemon", { address: this.o.address, port: this.o.port, pid: child.pid });
        return;
      }
      await sleep(50);
    }
    await this.stop();
    throw new ExternalError(`rsync daemon did not start on ${this.o.address}:${this.o.port}: ${stderr.trim() || "no output"}`);
  }

  /** Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([this.exited, sleep(3000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    this.log.debug("Stopped rsync daemon", { address: this.o.address, port: this.o.port });
  }

  private accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: this.o.address, port: this.o.port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
  }
}
