import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type Dockerode from "dockerode";
import { ExternalError, TimeoutError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { runProcess, type ProcessRunner, type RunProcessOptions } from "../../../../shared/src/process/run-process.js";
import type { Checkpointer, CheckpointOptions, CheckpointResult, LazyCheckpoint, LazyRestore, PageServerEndpoint } from "./checkpointer.js";
import { linkedImagesDir } from "./checkpoint-links.js";
import { dirSize } from "./dir-size.js";
import type { LazyPagesProgress } from "./lazy-pages-log.js";
import { DockerCheckpointer, type DockerCheckpointerOptions } from "./docker-checkpointer.js";

export interface RuncCheckpointerOptions extends DockerCheckpointerOptions {
  /**
   * runc's state root for the engine's containers: `<dockerd exec-root>/runtime-runc/moby`
   * (/run/docker/runtime-runc/moby for a default engine).
   */
  runcRoot: string;
  runcPath?: string;
  /** PATH for runc, which execs `criu` from it: the CRIU 4 wrapper must come first. */
  path?: string;
  /** How long to wait for the engine to notice the dumped container has exited. */
  exitTimeoutMs?: number;
  /** Longest a dump may take when the command sets no tighter deadline. */
  dumpTimeoutMs?: number;
  /** cgroup mount (v1 or v2), to thaw a container whose dump was killed. */
  cgroupRoot?: string;
  procRoot?: string;
  /** Runs processes; `key` marks a dump that a restarted agent must let finish (see ProcessGroups). */
  run?: (file: string, args: readonly string[], o: RunProcessOptions & { key?: string }) => ReturnType<ProcessRunner>;
  /** Waits until no dump of this container started by a previous agent still runs. */
  awaitPreviousDump?: (containerId: string) => Promise<void>;
}

/**
 * {@link Checkpointer} that dumps with `runc checkpoint` directly instead of through Docker's API.
 * Docker 20.10's checkpoint path goes through containerd, which tars the images into its content
 * store and back out (14 s for 512 MB here, against 1.5 s for runc). The images land in Docker's
 * own checkpoint dir, so restore — here or on another engine — stays `docker start --checkpoint`
 * (delegated to {@link DockerCheckpointer}), and Docker records the container as exited.
 */
/** The comment that marks the runc wrapper's restore-time TCP fence (infra/herd-runc.sh). */
const RESTORE_FENCE = "herd-restore-fence";
/** The comment that marks the agent's dump-time TCP fence (see fenceTcp). */
const TCP_FENCE = "herd-dump-fence";

export class RuncCheckpointer implements Checkpointer {
  private readonly docker: DockerCheckpointer;
  private readonly now: () => number;

  constructor(
    private readonly engine: Dockerode,
    private readonly log: Logger,
    private readonly o: RuncCheckpointerOptions,
  ) {
    // The lazy-pages daemon goes through the same (tracked) runner as runc: an agent that dies
    // mid-restore leaves it to its successor, which kills it at start (ProcessGroups.reapStale).
    this.docker = new DockerCheckpointer(engine, log, { ...o, ...(o.runLazyPages || o.run ? { runLazyPages: o.runLazyPages ?? o.run } : {}) });
    this.now = o.now ?? Date.now;
  }

  async checkpoint(containerId: string, name: string, opts: CheckpointOptions = {}): Promise<CheckpointResult> {
    const id = await this.docker.resolveId(containerId);
    const dir = await this.docker.imageDir(id, name);
    // CRIU's logs and scratch files stay out of the image dir, which is shipped as is.
    const work = `${dir}.work`;
    const t0 = this.now();
    this.log.debug("Checkpointing container with runc", { containerId: id, checkpoint: name });
    // A previous agent killed mid-dump may have left its runc/CRIU running: let it end first; its
    // images, if complete, are reused below.
    await this.o.awaitPreviousDump?.(id);
    if (!(await this.docker.completeCheckpointExists(id, dir))) {
      // A dump that ended without finishing may have left the container frozen.
      if ((await this.engine.getContainer(id).inspect()).State.Running) await this.release(id);
      await rm(dir, { recursive: true, force: true });
      // Files of an earlier restore under the same name must not be linked in with the new ones.
      await rm(linkedImagesDir(dir), { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await mkdir(work, { recursive: true });
      await this.fenceTcp(id, true);
      let code: number;
      let stderr: string;
      try {
        // --tcp-established: established connections are dumped with TCP repair instead of failing
        // the dump. Only containers that keep their address (the cluster network) get here with
        // any: the others are refused up front (socket-refusals). The restore side reads
        // tcp-established from /etc/criu/runc.conf (infra/install-criu.sh writes it).
        ({ code, stderr } = await this.runc(["checkpoint", "--tcp-established", "--image-path", dir, "--work-path", work, id], opts.signal, dumpKey(id)));
      } catch (err) {
        // Killed on its deadline (a CRIU that hangs): the container must run on, untraced and thawed.
        const criu = await this.criuLogTail(work);
        this.log.error("runc checkpoint killed on its deadline; releasing the container", {
          containerId: id,
          checkpoint: name,
          error: errorMessage(err),
          criu,
        });
        await rm(dir, { recursive: true, force: true });
        await rm(work, { recursive: true, force: true });
        const released = await this.release(id);
        throw new TimeoutError(`${errorMessage(err)}; container ${released}${criu ? `; CRIU's last words: ${criu}` : ""}`, { retryable: false });
      }
      if (code !== 0) {
        const tail = await this.criuLogTail(work);
        this.log.warn("Failed to checkpoint container with runc", { containerId: id, checkpoint: name, exitCode: code, stderr: stderr.trim(), criu: tail });
        // The log's tail travels in the error; nothing of a failed dump stays on disk.
        await rm(dir, { recursive: true, force: true });
        await rm(work, { recursive: true, force: true });
        await this.release(id);
        throw new ExternalError(`runc checkpoint ${id} failed (exit ${code}): ${stderr.trim()} ${tail}`.trim());
      }
      await this.waitUntilStopped(id);
    } else {
      this.log.info("Checkpoint already taken", { containerId: id, checkpoint: name });
    }
    await rm(work, { recursive: true, force: true });
    const durationMs = this.now() - t0;
    const bytes = await dirSize(dir);
    this.log.debug("Checkpointed container with runc", { containerId: id, checkpoint: name, durationMs, bytes });
    return { dir, bytes, durationMs, startedAt: t0 };
  }

  /**
   * Post-copy dump: `runc checkpoint --lazy-pages --page-server <address>:<port>` writes everything
   * but memory and then serves the pages from the still frozen tasks until the destination's
   * lazy-pages daemon has them all; runc then stops the container. Resolves once the page server
   * listens (CRIU's "status-ready"). The page server has no authentication: `pageServer.address`
   * must be the node's cluster-internal address (where the rsync daemon listens), and the port is
   * open only while this migration's transfer runs. Everything runs within `timeoutMs` and is
   * killed with its process group after that.
   */
  async checkpointLazy(
    containerId: string,
    name: string,
    o: { pageServer: PageServerEndpoint; timeoutMs: number; signal?: AbortSignal },
  ): Promise<LazyCheckpoint> {
    const id = await this.docker.resolveId(containerId);
    const dir = await this.docker.imageDir(id, name);
    const work = `${dir}.work`;
    const t0 = this.now();
    await this.o.awaitPreviousDump?.(id);
    if ((await this.engine.getContainer(id).inspect()).State.Running) await this.release(id).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await rm(linkedImagesDir(dir), { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await mkdir(work, { recursive: true });
    await this.fenceTcp(id, true);
    const abort = new AbortController();
    const endpoint = `${o.pageServer.address}:${o.pageServer.port}`;
    this.log.info("Post-copy dump: starting the page server", { containerId: id, checkpoint: name, pageServer: endpoint });
    // No ProcessGroups key, unlike a stop-and-copy dump: an agent that restarts kills a page
    // server its predecessor left (nobody is left to follow its transfer); a destination pulling
    // from it then loses the transfer, kills its copy and the migration rolls back to this source.
    const dump = this.runcFor(
      ["checkpoint", "--lazy-pages", "--page-server", endpoint, "--tcp-established", "--image-path", dir, "--work-path", work, id],
      o.timeoutMs,
      abort.signal,
    );
    let ended: { code: number; stderr: string } | Error | undefined;
    const settled = dump.then(
      (r) => (ended = r),
      (err: unknown) => (ended = err instanceof Error ? err : new Error(errorMessage(err))),
    );
    const readyBy = this.now() + Math.min(o.timeoutMs, 60_000);
    for (;;) {
      if (ended) break;
      const log = await readFile(`${work}/dump.log`, "utf8").catch(() => "");
      if (log.includes("Starting page server on port")) break;
      // The freeze command's own time ran out (a CRIU that hangs): give up and let the container run on.
      if (o.signal?.aborted) {
        abort.abort(new Error("the freeze command's time ran out before the page server started"));
        break;
      }
      if (this.now() > readyBy) {
        abort.abort(new Error("the page server did not start within 60 s"));
        break;
      }
      await sleep(10);
    }
    if (ended || abort.signal.aborted) {
      await settled;
      const tail = await this.criuLogTail(work);
      const released = await this.release(id).catch((err: unknown) => `not released: ${errorMessage(err)}`);
      await rm(dir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
      const why = ended instanceof Error ? ended.message : ended ? `exit ${ended.code}: ${ended.stderr.trim()}` : "page server not ready";
      throw new ExternalError(`post-copy dump of ${id} failed (${why}); container ${released}${tail ? `; CRIU: ${tail}` : ""}`);
    }
    // The frozen container still holds its cluster address here while the destination brings the
    // same address up: its link goes down now (release() brings it back if the source runs on).
    try {
      await this.downClusterLink(id);
    } catch (err) {
      abort.abort(err);
      await settled;
      await this.release(id).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
      throw err;
    }
    const bytes = await dirSize(dir);
    const durationMs = this.now() - t0;
    this.log.info("Post-copy dump: page server ready", { containerId: id, checkpoint: name, durationMs, bytes });
    const served = settled.then(async () => {
      const tail = await this.criuLogTail(work);
      if (!(ended instanceof Error) && ended?.code === 0) {
        await this.waitUntilStopped(id).catch((err: unknown) =>
          this.log.warn("Source not seen stopped after the page transfer", { containerId: id, error: errorMessage(err) }),
        );
        this.log.info("Post-copy: every page served; source released", { containerId: id, checkpoint: name, servedMs: this.now() - t0 });
        return { ok: true, detail: `all pages served (${tail})` };
      }
      const why = ended instanceof Error ? ended.message : `runc exit ${ended?.code ?? "?"}`;
      const released = await this.release(id).catch((err: unknown) => `not released: ${errorMessage(err)}`);
      this.log.warn("Post-copy: page transfer failed on the source", { containerId: id, checkpoint: name, why, criu: tail, released });
      return { ok: false, detail: `page transfer failed on the source (${why}; CRIU: ${tail}); the source container ${released}` };
    });
    return { dir, bytes, durationMs, startedAt: t0, served, abort: () => abort.abort(new Error("post-copy aborted")) };
  }

  imageDir(containerId: string, name: string): Promise<string> {
    return this.docker.imageDir(containerId, name);
  }

  async restore(containerId: string, name: string, opts: CheckpointOptions = {}): Promise<{ durationMs: number }> {
    const r = await this.docker.restore(containerId, name, opts);
    await this.liftRestoreFence(containerId);
    return r;
  }

  /** See DockerCheckpointer.restoreLazy. */
  async restoreLazy(containerId: string, name: string, o: { pageServer: PageServerEndpoint; timeoutMs: number; signal?: AbortSignal }): Promise<LazyRestore> {
    const r = await this.docker.restoreLazy(containerId, name, o);
    await this.liftRestoreFence(containerId);
    return r;
  }

  lazyPagesRecord(containerId: string, name: string): Promise<LazyPagesProgress | undefined> {
    return this.docker.lazyPagesRecord(containerId, name);
  }

  /**
   * The runc wrapper (infra/herd-runc.sh) fences incoming TCP in a restored container's new
   * namespace while CRIU rebuilds its sockets and lifts the fence when runc returns. Should it not
   * have (killed, no pid file), the restored service would take no new connections: lift it here.
   */
  private async liftRestoreFence(containerId: string): Promise<void> {
    let key: string | undefined;
    try {
      const info = await this.engine.getContainer(containerId).inspect();
      key = info.State.Running ? info.NetworkSettings?.SandboxKey || undefined : undefined;
    } catch {
      return;
    }
    if (!key) return;
    const rules = await this.run("nsenter", [`--net=${key}`, "iptables", "-w", "5", "-S", "INPUT"]);
    const left = rules.stdout.split("\n").filter((l) => l.startsWith("-A INPUT") && l.includes(RESTORE_FENCE));
    if (left.length === 0) return;
    for (const rule of left) {
      await this.run("nsenter", [
        `--net=${key}`,
        "iptables",
        "-w",
        "5",
        "-D",
        ...rule
          .slice(3)
          .split(" ")
          .map((w) => w.replace(/^"|"$/g, "")),
      ]);
    }
    this.log.warn("Lifted a restore fence the runc wrapper had left", { containerId, rules: left.length });
  }

  /**
   * After a dump that did not finish: thaw the container's freezer cgroup (CRIU froze it) and
   * check that no tracer holds its init any more (a killed CRIU's ptrace is dropped by the
   * kernel). Returns what was found, for the error message; throws if the task stays traced.
   */
  async release(id: string): Promise<string> {
    let pid = 0;
    try {
      const info = await this.engine.getContainer(id).inspect();
      pid = info.State.Running ? info.State.Pid : 0;
    } catch (err) {
      return `could not be inspected (${errorMessage(err)})`;
    }
    if (!pid) return "is not running";
    await this.fenceTcp(id, false);
    await this.clusterLinkUp(id);
    const procRoot = this.o.procRoot ?? "/proc";
    const thawed = await thawCgroupOf(pid, this.o.cgroupRoot ?? "/sys/fs/cgroup", procRoot).catch((err: unknown) => `thaw failed: ${errorMessage(err)}`);
    const deadline = this.now() + 5_000;
    for (;;) {
      const status = await readFile(`${procRoot}/${pid}/status`, "utf8").catch(() => "");
      const tracer = /^TracerPid:\s*(\d+)/m.exec(status)?.[1] ?? "0";
      const state = /^State:\s*(\S)/m.exec(status)?.[1] ?? "?";
      if (tracer === "0" && state !== "t") {
        this.log.info("Container released after an unfinished dump", { containerId: id, pid, thawed });
        return `runs on (pid ${pid}, ${thawed}, not traced)`;
      }
      if (this.now() > deadline)
        throw new ExternalError(`container ${id} (pid ${pid}) is still traced by ${tracer} (state ${state}) after the dump was killed`, { retryable: false });
      await sleep(50);
    }
  }

  /**
   * A running container's cluster link that is down (taken down under a post-copy dump, by this
   * agent or a predecessor) goes back up: the container runs on here.
   */
  private async clusterLinkUp(id: string): Promise<void> {
    const info = await this.engine.getContainer(id).inspect();
    const address = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAMConfig?.IPv4Address)?.IPAMConfig?.IPv4Address;
    const key = info.NetworkSettings?.SandboxKey;
    if (!address || !key || (await this.deviceHolding(key, address))) return;
    const r = await this.run("nsenter", [`--net=${key}`, "ip", "-o", "-4", "addr", "show"]);
    const device = r.stdout
      .split("\n")
      .filter((l) => l.includes(` ${address}/`))
      .map((l) => /^\d+:\s+([^\s@]+)/.exec(l)?.[1])
      .find(Boolean);
    if (!device) return;
    const up = await this.run("nsenter", [`--net=${key}`, "ip", "link", "set", "dev", device, "up"]);
    if (up.code !== 0) this.log.warn("Could not bring the container's cluster link back up", { containerId: id, device, stderr: up.stderr.trim() });
    else this.log.info("The container's cluster link is up again", { containerId: id, device, address });
  }

  private async downClusterLink(id: string): Promise<void> {
    const info = await this.engine.getContainer(id).inspect();
    const address = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAMConfig?.IPv4Address)?.IPAMConfig?.IPv4Address;
    const key = info.NetworkSettings?.SandboxKey;
    if (!address || !key) return;
    const device = await this.deviceHolding(key, address);
    if (!device) return;
    const r = await this.run("nsenter", [`--net=${key}`, "ip", "link", "set", "dev", device, "down"]);
    if (r.code !== 0) throw new ExternalError(`cannot take ${id}'s cluster link ${device} down for post-copy: ${r.stderr.trim()}`);
    this.log.info("Post-copy: the frozen source's cluster link is down", { containerId: id, address, device });
  }

  private async criuLogTail(work: string): Promise<string> {
    return criuLogSummary(await readFile(`${work}/dump.log`, "utf8").catch(() => ""));
  }

  remove(containerId: string, name: string): Promise<void> {
    return this.docker.remove(containerId, name);
  }

  /**
   * runc kills the container after the dump; Docker learns of it from containerd's exit event
   * shortly after, and then takes its cluster interface down. Until that is done the dead
   * container's namespace still holds its address and MAC (and its kernel answers a peer on this
   * node, with resets): a destination must not bring the same address up before, or the address
   * would live on two nodes. So: stopped, and the address gone from its network namespace.
   */
  private async waitUntilStopped(id: string): Promise<void> {
    const t0 = this.now();
    const deadline = t0 + (this.o.exitTimeoutMs ?? 10_000);
    let downed = false;
    for (;;) {
      const info = await this.engine.getContainer(id).inspect();
      if (!info.State.Running) {
        const address = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAMConfig?.IPv4Address)?.IPAMConfig?.IPv4Address;
        const key = info.NetworkSettings?.SandboxKey;
        const device = address ? await this.deviceHolding(key, address) : undefined;
        if (!device) {
          this.log[downed ? "info" : "debug"]("Container stopped after the dump, its address down", {
            containerId: id,
            address,
            waitedMs: this.now() - t0,
            downedByAgent: downed,
          });
          return;
        }
        if (!downed && key) {
          // Docker deletes the interface in its own time (0.1-0.6 s measured, more on a busy node); a
          // dead container's link is ours to take down at once: nothing runs behind it any more.
          await this.run("nsenter", [`--net=${key}`, "ip", "link", "set", "dev", device, "down"]);
          downed = true;
          continue;
        }
        if (this.now() > deadline) throw new ExternalError(`container ${id}'s address ${address} is still up in its network namespace after runc checkpoint`);
      } else if (this.now() > deadline) {
        throw new ExternalError(`container ${id} still shows as running after runc checkpoint`);
      }
      await sleep(10);
    }
  }

  /**
   * While a cluster-network container is dumped, its namespace drops all TCP in and out. CRIU
   * closes the dumped sockets silently (repair mode), but a peer's retransmission that reached the
   * dead namespace before its interface is gone would be answered with a reset, and that would
   * break the connection the destination is about to restore. Defence in depth: the resets once
   * blamed on this window came from the destination's (see the restore fence in
   * infra/herd-runc.sh). The fence stays in the dead namespace until Docker deletes it; a dump
   * that fails or is killed takes it away again (release()), and a rollback restores into a new
   * namespace. Best effort: without iptables the dump goes on unfenced.
   */
  private async fenceTcp(id: string, on: boolean): Promise<void> {
    let key: string | undefined;
    try {
      const info = await this.engine.getContainer(id).inspect();
      const onCluster = Object.values(info.NetworkSettings?.Networks ?? {}).some((n) => n.IPAMConfig?.IPv4Address);
      key = onCluster && info.State.Running ? info.NetworkSettings.SandboxKey : undefined;
    } catch {
      return;
    }
    if (!key) return;
    for (const chain of ["INPUT", "OUTPUT"]) {
      const rule = [chain, "-p", "tcp", "-m", "comment", "--comment", TCP_FENCE, "-j", "DROP"];
      if (on) {
        const r = await this.run("nsenter", [`--net=${key}`, "iptables", "-w", "5", "-I", ...rule]);
        if (r.code !== 0) this.log.warn("Could not fence the container's TCP for the dump", { containerId: id, chain, stderr: r.stderr.trim() });
      } else {
        // Every copy (a retried dump may have added more than one).
        for (let i = 0; i < 8; i++) if ((await this.run("nsenter", [`--net=${key}`, "iptables", "-w", "5", "-D", ...rule])).code !== 0) break;
      }
    }
  }

  /** The interface that has `address` and is up in the network namespace at `sandboxKey` (a path Docker bind-mounts), if any. */
  private async deviceHolding(sandboxKey: string | undefined, address: string): Promise<string | undefined> {
    if (
      !sandboxKey ||
      !(await stat(sandboxKey).then(
        () => true,
        () => false,
      ))
    )
      return undefined;
    // A namespace that cannot be entered any more (being torn down) holds nothing.
    const r = await this.run("nsenter", [`--net=${sandboxKey}`, "ip", "-o", "-4", "addr", "show", "up"]);
    if (r.code !== 0) return undefined;
    // "2: eth0    inet 10.77.0.128/24 brd ..." (a macvlan shows as eth0@if5)
    const line = r.stdout.split("\n").find((l) => l.includes(` ${address}/`));
    return line ? /^\d+:\s+([^\s@]+)/.exec(line)?.[1] : undefined;
  }

  private run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return (this.o.run ?? runProcess)(file, args, { timeoutMs: 5_000 });
  }

  private runcFor(args: string[], timeoutMs: number, signal: AbortSignal): Promise<{ code: number; stderr: string }> {
    const run = this.o.run ?? runProcess;
    return run(this.o.runcPath ?? "runc", ["--root", this.o.runcRoot, ...args], {
      timeoutMs,
      signal,
      env: { ...process.env, PATH: this.o.path ?? `/usr/local/bin:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` },
    });
  }

  private runc(args: string[], signal?: AbortSignal, key?: string): Promise<{ code: number; stderr: string }> {
    const run = this.o.run ?? runProcess;
    return run(this.o.runcPath ?? "runc", ["--root", this.o.runcRoot, ...args], {
      ...(key ? { key } : {}),
      timeoutMs: this.o.dumpTimeoutMs ?? 5 * 60_000,
      signal,
      env: { ...process.env, PATH: this.o.path ?? `/usr/local/bin:${process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"}` },
    });
  }
}

/** Thaws the freezer cgroup holding `pid` (v1 freezer.state, v2 cgroup.freeze); says what it did. */
export async function thawCgroupOf(pid: number, cgroupRoot: string, procRoot = "/proc"): Promise<string> {
  const lines = (await readFile(`${procRoot}/${pid}/cgroup`, "utf8")).split("\n");
  const v1 = lines.map((l) => /^\d+:([^:]*):(.*)$/.exec(l)).find((m) => m && m[1]!.split(",").includes("freezer"));
  if (v1) {
    const file = `${cgroupRoot}/freezer${v1[2]}/freezer.state`;
    const before = (await readFile(file, "utf8")).trim();
    if (before !== "THAWED") await writeFile(file, "THAWED");
    return `freezer was ${before}`;
  }
  const v2 = lines.map((l) => /^0::(.*)$/.exec(l)).find(Boolean);
  if (v2) {
    const file = `${cgroupRoot}${v2[1]}/cgroup.freeze`;
    const before = (await readFile(file, "utf8")).trim();
    if (before !== "0") await writeFile(file, "0");
    return `cgroup.freeze was ${before}`;
  }
  return "no freezer cgroup";
}

/** The ProcessGroups key of a container's dump. */
export const dumpKey = (containerId: string) => `dump:${containerId}`;

/**
 * What a user needs from a failed dump's log: CRIU's first errors (the cause; its last lines are
 * only the unwinding, e.g. "Unseizing …", "Dumping FAILED."), then its last line.
 */
export function criuLogSummary(log: string): string {
  const lines = log.trim().split("\n").filter((l) => l.trim() !== "");
  const errors = lines.filter((l) => /\bError \(/.test(l)).slice(0, 3);
  const last = lines.at(-1);
  if (errors.length === 0) return lines.slice(-3).map((l) => l.trim()).join(" | ");
  const picked = last !== undefined && !errors.includes(last) ? [...errors, last] : errors;
  return picked.map((l) => l.trim()).join(" | ");
}
