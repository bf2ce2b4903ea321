import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ExternalError, ValidationError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { findProcesses, listensOn, readPidFile, terminate } from "./process-ownership.js";

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
  /**
   * Prefix that makes the daemon die with the agent even when the agent is SIGKILLed (Node cannot
   * set PR_SET_PDEATHSIG itself; util-linux's setpriv sets it and execs rsync, so the pid stays
   * the daemon's). Default `setpriv --pdeathsig KILL --`; [] runs rsync directly.
   */
  deathSignalWrapper?: string[];
  procRoot?: string;
}

const DEFAULT_DEATH_SIGNAL_WRAPPER = ["setpriv", "--pdeathsig", "KILL", "--"];

export const DEFAULT_RSYNC_MODULE = "herd";
export const DEFAULT_RSYNC_USER = "herd";

/**
 * The receiving end of {@link RsyncFileTransfer}: one rsync daemon per node, bound to the node's
 * address, with one module rooted at the node's staging dir. Authenticated with a per-cluster
 * secret and limited to the cluster's subnet. Runs as root (so owners, device nodes and
 * trusted.* xattrs of overlay layers survive) inside a chroot of the staging dir.
 *
 * The agent owns it: it is the agent's child (foreground, `--no-detach`) with a parent-death
 * signal, so it cannot outlive the agent; its pid file is in the agent's state dir; at start a
 * daemon left by an earlier agent (found by the pid file and by its command line naming this
 * config file) is killed; and the daemon is only taken as started once the listening socket on
 * the port belongs to the process the agent just spawned — not merely because the port answers.
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

  get pidFile(): string {
    return join(this.o.configDir, "rsyncd.pid");
  }

  private get configFile(): string {
    return join(this.o.configDir, "rsyncd.conf");
  }

  /** Pid of the running daemon this object started, if any. */
  get pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const { configDir, stagingDir } = this.o;
    const procRoot = this.o.procRoot ?? "/proc";
    const user = this.o.user ?? DEFAULT_RSYNC_USER;
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    await mkdir(stagingDir, { recursive: true, mode: 0o700 });
    const secrets = join(configDir, "rsyncd.secrets");
    // rsync refuses a secrets file readable by others ("strict modes").
    await writeFile(secrets, `${user}:${this.o.secret}\n`, { mode: 0o600 });
    const conf = this.configFile;
    await this.removeStale(procRoot);
    // Something else on our port (another program, or another node's daemon sharing this address)
    // must not be mistaken for ours: refuse rather than adopt it.
    if (await this.accepts()) {
      throw new ExternalError(`rsync daemon: ${this.o.address}:${this.o.port} is already in use by a process that is not this agent's`);
    }
    await writeFile(
      conf,
      [
        `pid file = ${this.pidFile}`,
        "use chroot = yes",
        "numeric ids = yes",
        // Without this the daemon resolves every client address; with no DNS that costs ~10 s a connection.
        "reverse lookup = no",
        "max connections = 16",
        // Without it each transfer stalls on Nagle's algorithm against delayed ACKs (see RsyncFileTransfer).
        "socket options = TCP_NODELAY",
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
    let stderr = "";
    const args = [
      "--daemon",
      "--no-detach",
      `--config=${conf}`,
      `--address=${this.o.address}`,
      `--port=${this.o.port}`,
      `--log-file=${join(configDir, "rsyncd.log")}`,
    ];
    this.log.debug("Starting rsync daemon", { address: this.o.address, port: this.o.port, stagingDir });
    const [file, ...prefix] = [...(this.o.deathSignalWrapper ?? DEFAULT_DEATH_SIGNAL_WRAPPER), this.o.rsyncPath ?? "rsync"];
    const child = spawn(file ?? "rsync", [...prefix, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    child.on("error", (err) => (stderr += err.message));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (child.pid !== undefined && (await this.owns(child.pid, procRoot)) && (await this.accepts())) {
        this.log.info("Started rsync daemon", { address: this.o.address, port: this.o.port, pid: child.pid });
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
    await rm(this.pidFile, { force: true });
    this.log.debug("Stopped rsync daemon", { address: this.o.address, port: this.o.port });
  }

  /** The daemon's pid file names `pid` and `pid` holds the listening socket on our port. */
  private async owns(pid: number, procRoot: string): Promise<boolean> {
    return (await readPidFile(this.pidFile)) === pid && (await listensOn(pid, this.o.port, procRoot));
  }

  /**
   * Kills what an earlier agent left behind: the pid in the pid file if its command line names
   * our config file (a recycled pid belongs to someone else and is left alone), and any other
   * process whose command line names it (a daemon whose pid file was lost, its connection workers).
   */
  private async removeStale(procRoot: string): Promise<void> {
    const marker = `--config=${this.configFile}`;
    const stale = new Set(await findProcesses((cmdline) => cmdline.includes(marker), procRoot));
    const recorded = await readPidFile(this.pidFile);
    if (recorded !== undefined && !stale.has(recorded)) {
      this.log.debug("Pid file names a process that is not our daemon; ignoring it", { pid: recorded });
    }
    for (const pid of stale) {
      this.log.warn("Killing a stale rsync daemon left by an earlier agent", { pid, recorded: pid === recorded });
      await terminate(pid, 3_000, procRoot);
    }
    await rm(this.pidFile, { force: true });
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
