import Dockerode from "dockerode";
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, renameSync, writeFileSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { spawn } from "node:child_process";
import { ExternalError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { dockerdArgs, type ClusterNetworkPlan, type NodePlan } from "./cluster-plan.js";
import { WORKLOAD_REPO, type NodeEngine, type WorkloadImage } from "./node-engine.js";
import { logTail, pidFromFile } from "./detached-process.js";
import { isAlive, waitForExit } from "./process-table.js";

/** Docker Engine (`dockerd`, which launches its own containerd under the exec root). */
export class DockerdNodeEngine implements NodeEngine {
  private readonly log: Logger;
  private readonly dockerdPath: string;
  private readonly startTimeoutMs: number;
  private readonly stopTimeoutMs: number;

  constructor(opts: { log: Logger; dockerdPath?: string; startTimeoutMs?: number; stopTimeoutMs?: number }) {
    this.log = opts.log;
    this.dockerdPath = opts.dockerdPath ?? "dockerd";
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 30_000;
  }

  client(node: NodePlan): Dockerode {
    return new Dockerode({ socketPath: node.dockerSocket });
  }

  async ping(node: NodePlan): Promise<boolean> {
    try {
      await this.client(node).ping();
      return true;
    } catch {
      return false;
    }
  }

  async start(node: NodePlan, netnsPath: string, mark: string): Promise<void> {
    if (await this.ping(node)) return;
    const log = this.log.child({ nodeId: node.id });
    mkdirSync(node.runDir, { recursive: true });
    mkdirSync(node.nodeDir, { recursive: true });
    // dockerd refuses a setting given both as flag and in its config file; ours holds none.
    writeFileSync(node.dockerConfig, "{}\n");
    log.debug("Starting dockerd", { dataRoot: node.dataRoot, socket: node.dockerSocket });
    // nsenter --net (not `ip netns exec`): `ip netns exec` also unshares the mount namespace and
    // remounts /sys, which hides the cgroup hierarchy from dockerd ("Devices cgroup isn't mounted").
    const out = openSync(node.dockerLog, "a");
    let exited: string | undefined;
    try {
      const child = spawn("nsenter", [`--net=${netnsPath}`, this.dockerdPath, ...dockerdArgs(node)], {
        detached: true,
        stdio: ["ignore", out, out],
        cwd: "/",
        env: { ...process.env, HERD_CLUSTER_MARK: mark },
      });
      child.on("error", (err) => {
        exited = errorMessage(err);
      });
      // dockerd refusing its configuration exits at once: fail then, not after the whole timeout.
      child.on("exit", (code, sig) => {
        exited = `exited with ${code ?? sig}`;
      });
      child.unref();
    } finally {
      closeSync(out);
    }
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited !== undefined) throw new ExternalError(`dockerd for ${node.id} ${exited}: ${logTail(node.dockerLog, 3)}`);
      if (await this.ping(node)) {
        log.debug("dockerd answers", { socket: node.dockerSocket });
        return;
      }
      await sleep(100);
    }
    throw new ExternalError(`dockerd for ${node.id} did not answer on ${node.dockerSocket} within ${this.startTimeoutMs} ms (see ${node.dockerLog})`);
  }

  async ensureImage(node: NodePlan, image: WorkloadImage): Promise<"ok" | "imported"> {
    const docker = this.client(node);
    const versionTag = `src-${image.hash.slice(0, 12)}`;
    try {
      await docker.getImage(`${WORKLOAD_REPO}:${versionTag}`).inspect();
      return "ok";
    } catch {
      // not there yet
    }
    const log = this.log.child({ nodeId: node.id });
    // Every node gets the same image id: imported once, then saved and loaded everywhere else,
    // so a migration finds its image already on the destination instead of shipping it.
    const saved = `${image.tarball}.${versionTag}.docker-save.tar`;
    if (existsSync(saved)) {
      log.debug("Loading workload image", { archive: saved });
      const stream = await docker.loadImage(createReadStream(saved));
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
      });
    } else {
      log.debug("Importing workload image", { tarball: image.tarball, tag: versionTag });
      const stream = await docker.importImage(createReadStream(image.tarball), {
        repo: WORKLOAD_REPO,
        tag: versionTag,
        changes: ["ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["/bin/sh"]'],
      });
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
      });
      const archive = (await docker.getImage(`${WORKLOAD_REPO}:${versionTag}`).get()) as NodeJS.ReadableStream;
      await pipeline(archive, createWriteStream(`${saved}.tmp`));
      renameSync(`${saved}.tmp`, saved);
    }
    await docker.getImage(`${WORKLOAD_REPO}:${versionTag}`).tag({ repo: WORKLOAD_REPO, tag: "latest" });
    log.debug("Workload image ready", { tag: versionTag });
    return "imported";
  }

  async ensureClusterNetwork(node: NodePlan, net: ClusterNetworkPlan): Promise<"ok" | "created"> {
    const docker = this.client(node);
    const existing = await docker.listNetworks({ filters: JSON.stringify({ name: [net.name] }) });
    const same = existing.find((n) => n.Name === net.name);
    if (same) {
      const cfg = same.IPAM?.Config?.[0];
      if (same.Driver === "macvlan" && cfg?.Subnet === net.subnet && same.Options?.parent === net.parent) return "ok";
      throw new ExternalError(
        `node ${node.id}'s engine has a network ${net.name} that is not the cluster network (driver ${same.Driver}, subnet ${cfg?.Subnet ?? "?"}); remove it or run herd down`,
      );
    }
    this.log.debug("Creating cluster network", { nodeId: node.id, network: net.name, subnet: net.subnet, parent: net.parent });
    // macvlan in bridge mode: containers on one node reach each other directly and everything
    // else through the node's interface on the cluster bridge, with their own MAC (Docker derives
    // it from the address, so a moved container keeps it).
    await docker.createNetwork({
      Name: net.name,
      Driver: "macvlan",
      CheckDuplicate: true,
      IPAM: { Driver: "default", Config: [{ Subnet: net.subnet, Gateway: net.gateway, IPRange: net.ipRange }] },
      Options: { parent: net.parent, macvlan_mode: "bridge" },
      Labels: { "herd.cluster-network": "true" },
    });
    return "created";
  }

  async removeAllContainers(node: NodePlan): Promise<number> {
    if (!(await this.ping(node))) return 0;
    const docker = this.client(node);
    const containers = await docker.listContainers({ all: true });
    for (const c of containers) {
      this.log.debug("Removing container", { nodeId: node.id, containerId: c.Id });
      await docker.getContainer(c.Id).remove({ force: true, v: true });
    }
    return containers.length;
  }

  async stop(node: NodePlan): Promise<void> {
    const pid = pidFromFile(node.dockerPidFile);
    if (pid === undefined || !isAlive(pid)) return;
    this.log.debug("Stopping dockerd", { nodeId: node.id, pid });
    process.kill(pid, "SIGTERM");
    if (!(await waitForExit(pid, this.stopTimeoutMs))) {
      this.log.warn("dockerd did not stop in time, killing it", { nodeId: node.id, pid });
      process.kill(pid, "SIGKILL");
      await waitForExit(pid, 5_000);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
