import type { Logger } from "../../../../shared/src/logger.js";
import type { ClusterPlan, NodePlan } from "./cluster-plan.js";
import type { NodeNetwork } from "./node-network.js";
import { runCommand, type CommandRunner } from "./run-command.js";

/** Bridge + netns + veth with iproute2 (`ip`), each step checked before it is taken. */
export class IprouteNodeNetwork implements NodeNetwork {
  private readonly run: CommandRunner;
  private readonly log: Logger;
  private readonly netnsDir: string;

  constructor(opts: { log: Logger; run?: CommandRunner; netnsDir?: string }) {
    this.log = opts.log;
    this.run = opts.run ?? runCommand;
    this.netnsDir = opts.netnsDir ?? "/run/netns";
  }

  netnsPath(netns: string): string {
    return `${this.netnsDir}/${netns}`;
  }

  async ensure(plan: ClusterPlan): Promise<void> {
    const cidr = `${plan.bridgeAddress}/${plan.prefixLength}`;
    if (!(await this.linkExists(plan.bridge))) {
      this.log.debug("Creating bridge", { bridge: plan.bridge });
      await this.ip(["link", "add", plan.bridge, "type", "bridge"]);
    }
    if (!(await this.ip(["-o", "addr", "show", "dev", plan.bridge])).includes(` ${cidr} `)) {
      await this.ip(["addr", "add", cidr, "dev", plan.bridge]);
    }
    await this.ip(["link", "set", plan.bridge, "up"]);
    const existing = await this.listNetns();
    for (const node of plan.nodes) await this.ensureNode(plan, node, existing.includes(node.netns));
  }

  private async ensureNode(plan: ClusterPlan, node: NodePlan, netnsExists: boolean): Promise<void> {
    if (!netnsExists) {
      this.log.debug("Creating netns", { nodeId: node.id, netns: node.netns });
      await this.ip(["netns", "add", node.netns]);
    }
    const inNs = ["-n", node.netns];
    if (!(await this.linkExists("eth0", node.netns))) {
      // A half-made pair from an interrupted run would block the name.
      if (await this.linkExists(node.hostVeth)) await this.ip(["link", "del", node.hostVeth]);
      await this.ip(["link", "add", node.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", node.netns]);
    }
    await this.ip(["link", "set", node.hostVeth, "master", plan.bridge, "up"]);
    const cidr = `${node.address}/${plan.prefixLength}`;
    if (!(await this.ip([...inNs, "-o", "addr", "show", "dev", "eth0"])).includes(` ${cidr} `)) {
      await this.ip([...inNs, "addr", "add", cidr, "dev", "eth0"]);
    }
    await this.ip([...inNs, "link", "set", "lo", "up"]);
    await this.ip([...inNs, "link", "set", "eth0", "up"]);
    await this.ip([...inNs, "route", "replace", "default", "via", plan.bridgeAddress, "dev", "eth0"]);
  }

  async remove(plan: ClusterPlan): Promise<void> {
    // Deleting a namespace destroys its eth0, and with it the host end of the pair.
    for (const netns of (await this.listNetns()).filter((n) => plan.netnsPattern.test(n))) {
      this.log.debug("Deleting netns", { netns });
      await this.ip(["netns", "del", netns]);
    }
    for (const node of plan.nodes) {
      // The kernel destroys a deleted namespace's veth pair asynchronously: the host end may
      // vanish between the check and the delete, which is the outcome we want anyway.
      if (await this.linkExists(node.hostVeth)) {
        await this.ip(["link", "del", node.hostVeth]).catch((err: unknown) => {
          if (!/Cannot find device/.test(String((err as Error).message))) throw err;
        });
      }
    }
    if (await this.linkExists(plan.bridge)) {
      this.log.debug("Deleting bridge", { bridge: plan.bridge });
      await this.ip(["link", "del", plan.bridge]);
    }
  }

  async leftovers(plan: ClusterPlan): Promise<string[]> {
    const out = (await this.listNetns()).filter((n) => plan.netnsPattern.test(n)).map((n) => `netns ${n}`);
    if (await this.linkExists(plan.bridge)) out.push(`link ${plan.bridge}`);
    const links = await this.ip(["-o", "link", "show"]);
    const veth = new RegExp(`^\\d+: (${plan.name}-n\\d+-h)[@:]`, "gm");
    for (const m of links.matchAll(veth)) out.push(`link ${m[1]}`);
    return out;
  }

  private async listNetns(): Promise<string[]> {
    const out = await this.ip(["netns", "list"]);
    return out
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter((n) => n !== "");
  }

  private async linkExists(name: string, netns?: string): Promise<boolean> {
    const args = [...(netns ? ["-n", netns] : []), "link", "show", "dev", name];
    return (await this.run("ip", args, { check: false })).code === 0;
  }

  private async ip(args: string[]): Promise<string> {
    return (await this.run("ip", args)).stdout;
  }
}
