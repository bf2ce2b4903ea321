import { randomBytes } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, ExternalError, NotFoundError } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { MigrationEngineOps } from "../commands/migration-commands.js";
import type { Checkpointer, CheckpointOptions, CheckpointResult } from "./checkpointer.js";
import type { ContainerRuntime } from "./container-runtime.js";
import type { ContainerSpec } from "./container-spec.js";
import { DestinationMigrationSteps } from "./destination-migration-steps.js";
import { dirSize } from "./dir-size.js";
import type { TcpConnection } from "./open-connections.js";
import type { FileTransfer, TransferOptions, TransferStats, TransferTarget } from "./file-transfer.js";
import type { ImageCache } from "./image-cache.js";
import { SourceMigrationSteps } from "./source-migration-steps.js";

/**
 * A node's world without Docker, CRIU or rsync, for unit tests of the migration saga: the real
 * SourceMigrationSteps / DestinationMigrationSteps and the agent's real command handlers run over
 * in-memory implementations of ContainerRuntime, Checkpointer, ImageCache, FileTransfer and the
 * engine ops. Files (writable layers, volumes, checkpoint images, staging) are real files under a
 * temporary directory, so the steps' renames and cleanups are the real ones.
 *
 * A container's "process" is a counter (`memory`): a checkpoint writes it into the images, a
 * restore reads it back, a fresh start sets it to 0. So a test sees exactly what a real workload
 * would: state carried over, or lost, or a second copy running.
 */

export type FakeStatus = "created" | "running" | "exited";

interface FakeContainer {
  spec: ContainerSpec;
  status: FakeStatus;
  memory: number;
  startedAt?: number;
  pid: number;
  /** Connected TCP sockets its process holds (none unless a test opens some). */
  connections: TcpConnection[];
}

let pids = 1000;

/** The node's engine. Throws ExternalError for every call while the engine is "down". */
export class InMemoryContainerRuntime implements ContainerRuntime {
  readonly containers = new Map<string, FakeContainer>();
  engineUp = true;

  constructor(
    private readonly root: string,
    private readonly now: () => number,
  ) {}

  private check(): void {
    if (!this.engineUp) throw new ExternalError("engine is not answering", { retryable: true });
  }

  /** By id, name or an id prefix of at least 4 characters, like Docker. */
  find(ref: string): FakeContainer | undefined {
    const byId = this.containers.get(ref);
    if (byId) return byId;
    for (const c of this.containers.values()) if (c.spec.name === ref) return c;
    if (ref.length >= 4) {
      const matches = [...this.containers.values()].filter((c) => c.spec.id.startsWith(ref));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  get(ref: string): FakeContainer {
    const c = this.find(ref);
    if (!c) throw new NotFoundError(`no container ${ref}`);
    return c;
  }

  async inspect(ref: string): Promise<ContainerSpec> {
    this.check();
    const c = this.get(ref);
    return {
      ...structuredClone(c.spec),
      state: {
        status: c.status,
        running: c.status === "running",
        pid: c.status === "running" ? c.pid : 0,
        ...(c.status === "running" && c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      },
    };
  }

  async createFromSpec(spec: ContainerSpec): Promise<ContainerSpec> {
    this.check();
    if (this.find(spec.name)) throw new ConflictError(`a container named ${spec.name} already exists`);
    const id = randomBytes(32).toString("hex");
    const upperDir = join(this.root, "containers", id, "upper");
    await mkdir(upperDir, { recursive: true });
    const mounts = await Promise.all(spec.mounts.map(async (m) => (m.kind === "volume" ? { ...m, source: await this.volumeDataDir(m.name) } : m)));
    const created: ContainerSpec = { ...structuredClone(spec), id, upperDir, mounts, state: { status: "created", running: false, pid: 0 } };
    this.containers.set(id, { spec: created, status: "created", memory: 0, pid: 0, connections: [] });
    return this.inspect(id);
  }

  async volumeDataDir(name: string): Promise<string> {
    this.check();
    const dir = join(this.root, "volumes", name);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async dataRoot(): Promise<string> {
    this.check();
    return this.root;
  }

  /** A plain start: the process begins from nothing (its memory state is lost). */
  async start(ref: string): Promise<void> {
    this.check();
    const c = this.get(ref);
    if (c.status === "running") return;
    this.run(c, 0);
  }

  run(c: FakeContainer, memory: number): void {
    c.status = "running";
    c.memory = memory;
    c.startedAt = this.now();
    c.pid = pids++;
  }

  async remove(ref: string, opts: { force?: boolean } = {}): Promise<void> {
    this.check();
    const c = this.find(ref);
    if (!c) return;
    if (c.status === "running" && !opts.force) throw new ConflictError(`container ${c.spec.name} is running; stop it or force`);
    this.containers.delete(c.spec.id);
    await rm(join(this.root, "containers", c.spec.id), { recursive: true, force: true });
  }

  /** The connected TCP sockets of the running container whose process is `pid`. */
  connectionsOf(pid: number): TcpConnection[] {
    return [...this.containers.values()].find((c) => c.status === "running" && c.pid === pid)?.connections ?? [];
  }

  setRestartPolicy(ref: string, policy: ContainerSpec["restartPolicy"]): void {
    this.check();
    this.get(ref).spec.restartPolicy = policy;
  }
}

/** CRIU as far as the saga can tell: a dump stops the container and keeps its counter in the images. */
export class InMemoryCheckpointer implements Checkpointer {
  constructor(
    private readonly root: string,
    private readonly runtime: InMemoryContainerRuntime,
    private readonly now: () => number,
  ) {}

  async imageDir(containerId: string, name: string): Promise<string> {
    return join(this.root, "checkpoints", containerId, name);
  }

  async checkpoint(containerId: string, name: string, opts: CheckpointOptions = {}): Promise<CheckpointResult> {
    opts.signal?.throwIfAborted();
    const c = this.runtime.get(containerId);
    const dir = await this.imageDir(c.spec.id, name);
    const core = join(dir, "core.json");
    if (c.status !== "running") {
      // A redelivered dump finds its own complete images (as the real checkpointers do).
      const existing = await readCore(core);
      if (existing) return { dir, bytes: await dirSize(dir), durationMs: 0, startedAt: existing.dumpedAt };
      throw new ExternalError(`container ${c.spec.name} is ${c.status}, nothing to checkpoint`, { retryable: false });
    }
    const startedAt = this.now();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "pages.img"), Buffer.alloc(4096, 1));
    await writeFile(core, JSON.stringify({ memory: c.memory, dumpedAt: startedAt }));
    c.status = "exited";
    return { dir, bytes: await dirSize(dir), durationMs: 0, startedAt };
  }

  async restore(containerId: string, name: string, opts: CheckpointOptions = {}): Promise<{ durationMs: number }> {
    opts.signal?.throwIfAborted();
    const c = this.runtime.get(containerId);
    if (c.status === "running") throw new ConflictError(`container ${c.spec.name} is already running`);
    const core = await readCore(join(await this.imageDir(c.spec.id, name), "core.json"));
    if (!core) throw new ExternalError(`no checkpoint ${name} for ${c.spec.name}`, { retryable: false });
    this.runtime.run(c, core.memory);
    return { durationMs: 0 };
  }

  async release(containerId: string): Promise<string> {
    this.runtime.get(containerId);
    return "not traced";
  }

  async remove(containerId: string, name: string): Promise<void> {
    await rm(await this.imageDir(containerId, name), { recursive: true, force: true });
  }
}

async function readCore(file: string): Promise<{ memory: number; dumpedAt: number } | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (parsed && typeof parsed === "object" && "memory" in parsed && "dumpedAt" in parsed) {
      const { memory, dumpedAt } = parsed;
      if (typeof memory === "number" && typeof dumpedAt === "number") return { memory, dumpedAt };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** Images are ids in a set; an "archive" is a small file naming the image. */
export class InMemoryImageCache implements ImageCache {
  readonly images = new Map<string, string>();

  async hasImage(image: string): Promise<boolean> {
    return this.images.has(image) || [...this.images.values()].includes(image);
  }

  async exportImage(ref: string, imageId: string, file: string): Promise<void> {
    if (!(await this.hasImage(imageId))) throw new NotFoundError(`no image ${imageId}`);
    if (await exists(file)) return;
    await mkdir(join(file, ".."), { recursive: true });
    await writeFile(file, JSON.stringify({ ref, imageId }));
  }

  async importImage(archivePath: string): Promise<void> {
    const parsed: unknown = JSON.parse(await readFile(archivePath, "utf8"));
    if (!parsed || typeof parsed !== "object" || !("imageId" in parsed) || !("ref" in parsed)) throw new ExternalError(`not an image archive: ${archivePath}`);
    const { imageId, ref } = parsed;
    if (typeof imageId !== "string" || typeof ref !== "string") throw new ExternalError(`not an image archive: ${archivePath}`);
    this.images.set(imageId, ref);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Finds a node's staging area by the endpoint its transfer daemon would listen on. */
export type PeerResolver = (address: string, port: number) => InMemoryNode | undefined;

/** rsync's job done with a local copy into the peer node's staging area. */
export class LocalCopyFileTransfer implements FileTransfer {
  constructor(private readonly peers: PeerResolver) {}

  async sync(localDir: string, target: TransferTarget, opts: TransferOptions = {}): Promise<TransferStats> {
    opts.signal?.throwIfAborted();
    const peer = this.peers(target.address, target.port);
    if (!peer || !peer.transferUp) throw new ExternalError(`no transfer daemon answers at ${target.address}:${target.port}`, { retryable: true });
    if (target.path.split("/").includes("..")) throw new ExternalError(`bad transfer path ${target.path}`, { retryable: false });
    if (!(await exists(localDir))) throw new ExternalError(`rsync: ${localDir} does not exist`, { retryable: false });
    const dest = join(peer.stagingDir, target.path);
    if (opts.delete !== false) await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    await cp(localDir, dest, { recursive: true });
    const bytes = await dirSize(localDir);
    opts.onProgress?.({ bytes, percent: 100 });
    return { bytesSent: bytes, bytesReceived: 0, transferredFileBytes: bytes, filesTransferred: 1, totalFileBytes: bytes, durationMs: 0 };
  }
}

class InMemoryEngineOps implements MigrationEngineOps {
  constructor(private readonly runtime: InMemoryContainerRuntime) {}
  async findByLabel(label: string, value: string): Promise<string[]> {
    if (!this.runtime.engineUp) throw new ExternalError("engine is not answering", { retryable: true });
    return [...this.runtime.containers.values()].filter((c) => c.spec.labels[label] === value).map((c) => c.spec.id);
  }
  async setRestartPolicy(containerId: string, policy: ContainerSpec["restartPolicy"]): Promise<void> {
    this.runtime.setRestartPolicy(containerId, policy);
  }
  async ping(): Promise<boolean> {
    return this.runtime.engineUp;
  }
}

export const FAKE_IMAGE_ID = `sha256:${"ab".repeat(32)}`;

export interface InMemoryNodeOptions {
  id: string;
  /** Directory for this node's files (removed by `dispose`). */
  root: string;
  peers: PeerResolver;
  log: Logger;
  /** This node's clock (agent timestamps come from it). */
  now?: () => number;
}

/** One node's world: engine, CRIU, image store and staging area, plus the real migration steps over them. */
export class InMemoryNode {
  readonly id: string;
  readonly address: string;
  readonly port = 873;
  readonly runtime: InMemoryContainerRuntime;
  readonly checkpointer: InMemoryCheckpointer;
  readonly images = new InMemoryImageCache();
  readonly transfer: LocalCopyFileTransfer;
  readonly engine: MigrationEngineOps;
  readonly source: SourceMigrationSteps;
  readonly destination: DestinationMigrationSteps;
  readonly stagingDir: string;
  /** False: the node's transfer daemon does not answer. */
  transferUp = true;
  readonly now: () => number;

  constructor(private readonly o: InMemoryNodeOptions) {
    this.id = o.id;
    this.address = `${o.id}.test`;
    this.now = o.now ?? Date.now;
    this.runtime = new InMemoryContainerRuntime(o.root, this.now);
    this.checkpointer = new InMemoryCheckpointer(o.root, this.runtime, this.now);
    this.transfer = new LocalCopyFileTransfer(o.peers);
    this.engine = new InMemoryEngineOps(this.runtime);
    this.stagingDir = join(o.root, "staging");
    const log = o.log.child({ nodeId: o.id });
    this.source = new SourceMigrationSteps({
      runtime: this.runtime,
      checkpointer: this.checkpointer,
      transfer: this.transfer,
      images: this.images,
      imageCacheDir: join(o.root, "image-cache"),
      log,
      // Fake pids are not host processes: never read the host's /proc for them.
      connections: async (pid) => this.runtime.connectionsOf(pid),
      // Nor for who runs them: a fake pid that is a host process of another user (RabbitMQ's beam.smp) refused the move.
      identities: { processes: async () => [], self: async () => ({ uid: 0, gid: 0, sysResource: true }) },
    });
    this.destination = new DestinationMigrationSteps({
      runtime: this.runtime,
      checkpointer: this.checkpointer,
      images: this.images,
      stagingDir: this.stagingDir,
      log,
      now: this.now,
    });
  }

  /** Starts a container with a volume and a file in its writable layer, as `docker run` would. */
  async runContainer(name: string, opts: { memory?: number; restartPolicy?: ContainerSpec["restartPolicy"] } = {}): Promise<ContainerSpec> {
    this.images.images.set(FAKE_IMAGE_ID, "herd/fake:1");
    const created = await this.runtime.createFromSpec(fakeSpec(name, opts.restartPolicy));
    await writeFile(join(created.upperDir ?? "", "marker"), `written on ${this.id}`);
    for (const m of created.mounts) if (m.kind === "volume") await writeFile(join(m.source, "data"), `volume of ${name}`);
    const c = this.runtime.get(created.id);
    this.runtime.run(c, opts.memory ?? 1);
    return this.runtime.inspect(created.id);
  }

  /** The workload does some work: every running container's counter goes up. */
  tick(): void {
    for (const c of this.runtime.containers.values()) if (c.status === "running") c.memory++;
  }

  /** Containers named `name` here, with their status and counter. */
  copies(name: string): Array<{ node: string; id: string; status: FakeStatus; memory: number }> {
    return [...this.runtime.containers.values()]
      .filter((c) => c.spec.name === name)
      .map((c) => ({ node: this.id, id: c.spec.id, status: c.status, memory: c.memory }));
  }

  /** What is left in the staging area (migration directories; shared image archives excluded). */
  async stagedMigrations(): Promise<string[]> {
    try {
      return (await readdir(this.stagingDir)).filter((d) => d !== "images");
    } catch {
      return [];
    }
  }

  migrationHandlerDeps() {
    return { source: this.source, destination: this.destination, runtime: this.runtime, engine: this.engine, log: this.o.log.child({ nodeId: this.id }) };
  }
}

/** A migratable container's spec (overlay upper dir, one named volume, no bind mounts). */
export function fakeSpec(name: string, restartPolicy: ContainerSpec["restartPolicy"] = { name: "unless-stopped", maximumRetryCount: 0 }): ContainerSpec {
  return {
    id: "to-be-assigned",
    name,
    image: "herd/fake:1",
    imageId: FAKE_IMAGE_ID,
    cmd: ["counter"],
    entrypoint: null,
    env: ["A=1"],
    labels: { app: name },
    workingDir: "",
    user: "",
    hostname: name,
    tty: false,
    openStdin: false,
    resources: {
      memoryBytes: 0,
      memorySwapBytes: 0,
      memoryReservationBytes: 0,
      nanoCpus: 0,
      cpuQuota: 0,
      cpuPeriod: 0,
      cpuShares: 0,
      cpusetCpus: "",
      cpusetMems: "",
      pidsLimit: null,
    },
    mounts: [{ kind: "volume", name: `${name}-data`, destination: "/data", readOnly: false, driver: "local", source: "" }],
    exposedPorts: [],
    ports: [],
    restartPolicy,
    networkMode: "none",
    pidMode: "",
    ipcMode: "",
    utsMode: "",
    privileged: false,
    devices: [],
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    upperDir: null,
    state: { status: "created", running: false, pid: 0 },
  };
}
