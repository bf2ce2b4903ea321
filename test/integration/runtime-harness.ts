/**
 * Real infrastructure for the runtime's integration tests and bench/migration.ts: private Docker
 * engines (one per emulated node, all in this network namespace), an rsync daemon per node on
 * loopback, CRIU via infra/install-criu.sh, and a registry-free test image.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Dockerode from "dockerode";
import { createLogger, type Logger } from "../../shared/src/logger.js";
import { DockerCheckpointer } from "../../services/compute-agent/src/runtime/docker-checkpointer.js";
import { DockerContainerRuntime } from "../../services/compute-agent/src/runtime/docker-container-runtime.js";
import { DockerImageCache } from "../../services/compute-agent/src/runtime/docker-image-cache.js";
import { DestinationMigrationSteps } from "../../services/compute-agent/src/runtime/destination-migration-steps.js";
import { RuncCheckpointer } from "../../services/compute-agent/src/runtime/runc-checkpointer.js";
import { RsyncDaemon } from "../../services/compute-agent/src/runtime/rsync-daemon.js";
import { RsyncFileTransfer } from "../../services/compute-agent/src/runtime/rsync-file-transfer.js";
import { SourceMigrationSteps } from "../../services/compute-agent/src/runtime/source-migration-steps.js";

const run = promisify(execFile);

/** Repo root, from dist/test/integration/ or test/integration/. */
export const REPO_ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
})();

export const TEST_IMAGE = "herd/rt-test:1";
/** runc (spawned by each engine's containerd) finds `criu` on PATH: our wrapper must come first. */
export const ENGINE_PATH = `/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin`;

export function testLogger(component: string): Logger {
  return createLogger({ level: process.env.HERD_LOG_LEVEL ?? "warn" }).child({ component });
}

/** Installs CRIU 4.x if needed (idempotent; ~70 ms when already there). */
export async function ensureCriu(): Promise<string> {
  const { stdout } = await run("bash", [join(REPO_ROOT, "infra/install-criu.sh")], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

export interface EngineOptions {
  name: string;
  /** Holds the data root, staging dir, rsync config. Same filesystem for data root and staging. */
  baseDir: string;
  runDir: string;
  rsyncPort: number;
  secret: string;
}

/** One emulated node: a private dockerd + its rsync daemon + the runtime building blocks. */
export class LocalNode {
  readonly docker: Dockerode;
  readonly dataRoot: string;
  /** runc's state root of this engine's containers. */
  readonly runcRoot: string;
  readonly stagingDir: string;
  readonly socket: string;
  readonly runtime: DockerContainerRuntime;
  readonly checkpointer: DockerCheckpointer;
  readonly images: DockerImageCache;
  readonly transfer: RsyncFileTransfer;
  readonly rsyncd: RsyncDaemon;
  readonly source: SourceMigrationSteps;
  /** The same source steps, dumping with runc directly instead of Docker's checkpoint API. */
  readonly runcSource: SourceMigrationSteps;
  readonly runcCheckpointer: RuncCheckpointer;
  readonly destination: DestinationMigrationSteps;
  /** The destination steps restoring the way Docker does by default (images copied through containerd's content store). */
  readonly copyingDestination: DestinationMigrationSteps;
  /** Docker's own checkpoint and restore, images copied through containerd (the baseline). */
  readonly copyingCheckpointer: DockerCheckpointer;
  private dockerd: ChildProcess | undefined;

  constructor(readonly o: EngineOptions) {
    this.dataRoot = join(o.baseDir, "docker");
    // Inside the data root: dockerd bind-mounts its root onto itself, so only from there is
    // installing staged files into containers a rename (a copy from anywhere else).
    this.stagingDir = join(this.dataRoot, "herd-staging");
    this.socket = join(o.runDir, "docker.sock");
    this.docker = new Dockerode({ socketPath: this.socket });
    const log = testLogger(`node-${o.name}`);
    this.runtime = new DockerContainerRuntime(this.docker, log);
    this.checkpointer = new DockerCheckpointer(this.docker, log, { dataRoot: this.dataRoot });
    this.images = new DockerImageCache(this.docker, log);
    this.transfer = new RsyncFileTransfer({ secret: o.secret, secretsDir: o.baseDir }, log);
    this.rsyncd = new RsyncDaemon(
      {
        stagingDir: this.stagingDir,
        configDir: join(o.baseDir, "rsyncd"),
        address: "127.0.0.1",
        port: o.rsyncPort,
        secret: o.secret,
        hostsAllow: ["127.0.0.0/8"],
      },
      log,
    );
    this.source = new SourceMigrationSteps({
      runtime: this.runtime,
      checkpointer: this.checkpointer,
      transfer: this.transfer,
      images: this.images,
      imageCacheDir: join(o.baseDir, "image-cache"),
      log,
    });
    this.runcRoot = join(o.runDir, "exec", "runtime-runc", "moby");
    this.runcCheckpointer = new RuncCheckpointer(this.docker, log, {
      dataRoot: this.dataRoot,
      runcRoot: this.runcRoot,
      path: ENGINE_PATH,
    });
    this.runcSource = new SourceMigrationSteps({
      runtime: this.runtime,
      checkpointer: this.runcCheckpointer,
      transfer: this.transfer,
      images: this.images,
      imageCacheDir: join(o.baseDir, "image-cache"),
      log,
    });
    this.destination = new DestinationMigrationSteps({
      runtime: this.runtime,
      checkpointer: this.checkpointer,
      images: this.images,
      stagingDir: this.stagingDir,
      log,
    });
    this.copyingCheckpointer = new DockerCheckpointer(this.docker, log, { dataRoot: this.dataRoot, linkImages: false });
    this.copyingDestination = new DestinationMigrationSteps({
      runtime: this.runtime,
      checkpointer: this.copyingCheckpointer,
      images: this.images,
      stagingDir: this.stagingDir,
      log,
    });
  }

  get endpoint(): { address: string; port: number } {
    return this.rsyncd.endpoint;
  }

  async start(): Promise<void> {
    await mkdir(this.dataRoot, { recursive: true });
    await mkdir(this.o.runDir, { recursive: true });
    const logFd = openSync(join(this.o.baseDir, "dockerd.log"), "a");
    this.dockerd = spawn(
      "dockerd",
      [
        `--data-root=${this.dataRoot}`,
        `--exec-root=${join(this.o.runDir, "exec")}`,
        `--host=unix://${this.socket}`,
        `--pidfile=${join(this.o.runDir, "docker.pid")}`,
        "--bridge=none",
        "--iptables=false",
        "--ip-masq=false",
        "--experimental",
        "--storage-driver=overlay2",
        // Private config file: the host's /etc/docker/daemon.json must not leak in.
        `--config-file=${await this.writeDaemonConfig()}`,
      ],
      { stdio: ["ignore", logFd, logFd], env: { ...process.env, PATH: ENGINE_PATH } },
    );
    closeSync(logFd);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.dockerd.exitCode !== null) throw new Error(`dockerd ${this.o.name} exited: see ${join(this.o.baseDir, "dockerd.log")}`);
      try {
        await this.docker.ping();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`dockerd ${this.o.name} did not answer within 30 s`);
        await sleep(100);
      }
    }
    await this.rsyncd.start();
  }

  /** Stops everything this node started and removes its files and mounts. Runs every step even if one fails. */
  async stop(): Promise<void> {
    const errors: unknown[] = [];
    await this.rsyncd.stop().catch((e: unknown) => errors.push(e));
    await this.transfer.close().catch((e: unknown) => errors.push(e));
    if (this.dockerd && this.dockerd.exitCode === null) {
      try {
        const all = await this.docker.listContainers({ all: true });
        await Promise.all(
          all.map((c) =>
            this.docker
              .getContainer(c.Id)
              .remove({ force: true })
              .catch(() => undefined),
          ),
        );
      } catch (e) {
        errors.push(e);
      }
      const exited = new Promise((r) => this.dockerd?.once("exit", r));
      this.dockerd.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (this.dockerd.exitCode === null) this.dockerd.kill("SIGKILL");
    }
    await unmountUnder(this.o.baseDir).catch((e: unknown) => errors.push(e));
    await unmountUnder(this.o.runDir).catch((e: unknown) => errors.push(e));
    await rm(this.o.baseDir, { recursive: true, force: true }).catch((e: unknown) => errors.push(e));
    await rm(this.o.runDir, { recursive: true, force: true }).catch((e: unknown) => errors.push(e));
    if (errors.length) throw new Error(`node ${this.o.name} cleanup incomplete: ${String(errors[0])}`);
  }

  async dockerCli(...args: string[]): Promise<string> {
    const { stdout } = await run("docker", ["-H", `unix://${this.socket}`, ...args], { maxBuffer: 16 << 20 });
    return stdout;
  }

  private async writeDaemonConfig(): Promise<string> {
    const file = join(this.o.baseDir, "daemon.json");
    await writeFile(file, "{}\n");
    return file;
  }
}

/** Unmounts (deepest first) everything mounted under `dir`; overlay and shm mounts linger after a dockerd stop. */
export async function unmountUnder(dir: string): Promise<void> {
  const prefix = resolve(dir) + "/";
  const mounts = (await readFile("/proc/self/mounts", "utf8"))
    .split("\n")
    .map((l) => l.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((m): m is string => !!m && (m + "/").startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run("umount", ["-l", m]).catch(() => undefined);
}

export interface Cluster {
  a: LocalNode;
  b: LocalNode;
  stop(): Promise<void>;
}

/** Two nodes under a fresh random dir; rsync ports picked at random from a high range. */
export async function startTwoNodes(tag: string): Promise<Cluster> {
  const id = `${tag}-${randomBytes(3).toString("hex")}`;
  const secret = randomBytes(24).toString("hex");
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const mk = (name: string, p: number) =>
    new LocalNode({ name, baseDir: `/tmp/herd-rt/${id}/${name}`, runDir: `/run/herd-rt/${id}/${name}`, rsyncPort: p, secret });
  const a = mk("a", port);
  const b = mk("b", port + 1);
  const stop = async () => {
    const results = await Promise.allSettled([a.stop(), b.stop()]);
    await rm(`/tmp/herd-rt/${id}`, { recursive: true, force: true });
    await rm(`/run/herd-rt/${id}`, { recursive: true, force: true });
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  try {
    await Promise.all([a.start(), b.start()]);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { a, b, stop };
}

/** Builds the rootfs tarball (busybox-static + herd-counter compiled statically) once per source change. */
export async function buildTestRootfs(cacheDir = "/tmp/herd-rt-cache"): Promise<string> {
  const src = join(REPO_ROOT, "test/integration/fixtures/herd-counter.c");
  const tar = join(cacheDir, "rootfs.tar");
  try {
    if ((await stat(tar)).mtimeMs > (await stat(src)).mtimeMs) return tar;
  } catch {
    // not built yet
  }
  const root = join(cacheDir, `rootfs.${process.pid}`);
  await rm(root, { recursive: true, force: true });
  for (const d of ["bin", "usr/local/bin", "tmp", "data", "etc", "proc", "sys", "dev"]) await mkdir(join(root, d), { recursive: true });
  await chmod(join(root, "tmp"), 0o1777);
  await copyFile("/usr/bin/busybox", join(root, "bin/busybox"));
  await chmod(join(root, "bin/busybox"), 0o755);
  for (const applet of ["sh", "cat", "ls", "echo", "sleep", "mkdir", "rm", "test"]) await symlink("busybox", join(root, "bin", applet));
  await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await run("gcc", ["-static", "-O2", "-Wall", "-o", join(root, "usr/local/bin/herd-counter"), src]);
  await run("tar", ["-C", root, "-cf", `${tar}.tmp`, "."]);
  await run("mv", [`${tar}.tmp`, tar]);
  await rm(root, { recursive: true, force: true });
  return tar;
}

/** Imports the test image into a node's engine (only the source: the destination gets it shipped). */
export async function importTestImage(node: LocalNode): Promise<void> {
  const tar = await buildTestRootfs();
  await node.dockerCli("import", "-c", 'CMD ["/usr/local/bin/herd-counter","16"]', tar, TEST_IMAGE);
}

/** stdout+stderr of a non-TTY container (Docker multiplexes them with 8-byte frame headers). */
export async function containerLogs(docker: Dockerode, id: string): Promise<string> {
  const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString();
}

/** Counter values printed by herd-counter, in order. */
export function counts(logs: string): number[] {
  return [...logs.matchAll(/^count=(\d+)$/gm)].map((m) => Number(m[1]));
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Runs a command in a container and returns its stdout (throws on a non-zero exit). */
export async function execIn(node: LocalNode, id: string, cmd: string[]): Promise<string> {
  return node.dockerCli("exec", id, ...cmd);
}
