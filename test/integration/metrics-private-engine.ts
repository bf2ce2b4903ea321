// A private Docker engine for the metrics integration test and `npm run bench:telemetry`: its own
// data root, exec root, socket and containerd, so it never touches the host's or another test's
// engine, and stop() leaves nothing behind.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import { createLogger, type Logger } from "../../shared/src/logger.js";

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The host's workload image (built by infra/workloads/build-image.sh), used when present. */
const WORKLOAD_TAR = "/var/lib/herd/images/workload.tar";

export interface TestImage {
  image: string;
  /** Command that keeps one core busy forever. */
  burnerCmd: string[];
  /** Command that sleeps forever. */
  idleCmd: string[];
}

export interface PrivateEngineOptions {
  /** Short name; paths are /tmp/<name>/…, /run/<name>/…, /run/<name>.sock. */
  name: string;
  logger?: Logger;
}

export class PrivateDockerEngine {
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  private readonly baseDir: string;
  private readonly pidFile: string;
  private readonly log: Logger;
  readonly docker: Dockerode;

  constructor(private readonly options: PrivateEngineOptions) {
    this.baseDir = `/tmp/${options.name}`;
    this.dataRoot = join(this.baseDir, "docker");
    this.execRoot = `/run/${options.name}`;
    this.socket = `/run/${options.name}.sock`;
    this.pidFile = `/run/${options.name}.pid`;
    this.log = (options.logger ?? createLogger()).child({ component: "private-engine", engine: options.name });
    this.docker = new Dockerode({ socketPath: this.socket });
  }

  async start(): Promise<void> {
    await this.stop(); // whatever an aborted earlier run left
    mkdirSync(this.dataRoot, { recursive: true });
    const logFd = openSync(join(this.baseDir, "dockerd.log"), "a");
    this.log.debug("Starting dockerd...");
    const child = spawn(
      "dockerd",
      [
        "--data-root",
        this.dataRoot,
        "--exec-root",
        this.execRoot,
        "-H",
        `unix://${this.socket}`,
        "--pidfile",
        this.pidFile,
        "--bridge",
        "none",
        "--iptables=false",
        "--ip-masq=false",
        // A separate containerd namespace in case dockerd finds and shares a system containerd.
        "--containerd-namespace",
        this.options.name,
        "--containerd-plugins-namespace",
        `${this.options.name}-plugins`,
      ],
      { detached: true, stdio: ["ignore", logFd, logFd] },
    );
    closeSync(logFd);
    child.unref();
    let exited = false;
    child.once("exit", () => (exited = true));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited) throw new Error(`dockerd exited during start-up; see ${join(this.baseDir, "dockerd.log")}`);
      try {
        await this.docker.ping();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${this.socket} within 60 s`);
        await sleep(200);
      }
    }
    this.log.debug("Started dockerd", { pid: child.pid });
  }

  /** Imports the workload image if the host has it, else a busybox-only rootfs. */
  async ensureImage(): Promise<TestImage> {
    if (existsSync(WORKLOAD_TAR)) {
      await this.dockerCli(["import", WORKLOAD_TAR, "herd-tel/workload:latest"]);
      return { image: "herd-tel/workload:latest", burnerCmd: ["/usr/local/bin/cpuburn", "1", "1.0"], idleCmd: ["sleep", "2147483647"] };
    }
    const rootfs = join(this.baseDir, "rootfs");
    mkdirSync(join(rootfs, "bin"), { recursive: true });
    if (!existsSync(join(rootfs, "bin", "busybox"))) {
      writeFileSync(join(rootfs, "bin", "busybox"), readFileSync("/bin/busybox"), { mode: 0o755 });
      for (const applet of ["sh", "sleep", "cat", "dd"]) symlinkSync("busybox", join(rootfs, "bin", applet));
    }
    const tar = join(this.baseDir, "rootfs.tar");
    await execFileAsync("tar", ["-C", rootfs, "-cf", tar, "."]);
    await this.dockerCli(["import", tar, "herd-tel/busybox:latest"]);
    return { image: "herd-tel/busybox:latest", burnerCmd: ["sh", "-c", "while :; do :; done"], idleCmd: ["sleep", "2147483647"] };
  }

  /** Creates and starts a container with no network; returns its full id and host pid. */
  async run(name: string, image: string, cmd: string[], memoryBytes?: number): Promise<{ id: string; pid: number }> {
    const container = await this.docker.createContainer({
      name,
      Image: image,
      Cmd: cmd,
      HostConfig: { NetworkMode: "none", ...(memoryBytes ? { Memory: memoryBytes } : {}), LogConfig: { Type: "none", Config: {} } },
    });
    await container.start();
    const info = await container.inspect();
    return { id: info.Id, pid: info.State.Pid };
  }

  /** Processes of this engine: dockerd, its containerd and the shims (found by their exec root). */
  daemonPids(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let args: string[];
      try {
        args = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
      } catch {
        continue;
      }
      if (args.some((a) => a === this.execRoot || a.startsWith(`${this.execRoot}/`))) pids.push(Number(entry));
    }
    return pids;
  }

  /** CPU seconds (user+system, including reaped children such as runc) used so far by daemonPids(). */
  daemonCpuSeconds(pids = this.daemonPids()): number {
    const hz = 100; // USER_HZ on Linux
    let ticks = 0;
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
        // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      } catch {
        // exited meanwhile
      }
    }
    return ticks / hz;
  }

  /** Removes every container, stops the engine and its helpers, unmounts and deletes its dirs. Idempotent. */
  async stop(): Promise<void> {
    if (existsSync(this.socket)) {
      try {
        const all = await this.docker.listContainers({ all: true });
        for (let i = 0; i < all.length; i += 16) {
          await Promise.all(
            all.slice(i, i + 16).map((c) =>
              this.docker
                .getContainer(c.Id)
                .remove({ force: true })
                .catch(() => undefined),
            ),
          );
        }
      } catch {
        // engine not answering: the processes are killed below
      }
    }
    const dockerdPid = this.readPidFile();
    if (dockerdPid !== undefined) await this.terminate(dockerdPid, 20_000);
    for (const pid of this.daemonPids()) await this.terminate(pid, 5_000);
    await this.unmountUnder([this.dataRoot, this.execRoot]);
    for (const path of [this.baseDir, this.execRoot, this.socket, this.pidFile]) rmSync(path, { recursive: true, force: true });
  }

  private readPidFile(): number | undefined {
    try {
      const pid = Number(readFileSync(this.pidFile, "utf8").trim());
      return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  private async terminate(pid: number, graceMs: number): Promise<void> {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
    const deadline = Date.now() + graceMs;
    while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await sleep(100);
    if (existsSync(`/proc/${pid}`)) {
      this.log.warn("Process ignored SIGTERM; killing it", { pid });
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }

  private async unmountUnder(prefixes: string[]): Promise<void> {
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1] ?? "")
      .filter((m) => prefixes.some((p) => m === p || m.startsWith(`${p}/`)))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await execFileAsync("umount", ["-l", m]).catch(() => undefined);
  }

  private async dockerCli(args: string[]): Promise<string> {
    const { stdout } = await execFileAsync("docker", ["-H", `unix://${this.socket}`, ...args]);
    return stdout;
  }
}
