import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ExternalError } from "../../../../shared/src/errors.js";
import { runTool, type ToolRunner } from "./run-tool.js";

/**
 * Finds a container's interface as seen from the node's network namespace. Contract: returns the
 * name of the node-side end of the container's veth, or null when the container has none (network
 * "none" or "host").
 */
export interface ContainerInterfaces {
  nodeSideOf(pid: number): Promise<string | null>;
}

/**
 * The container's eth0 names its peer's ifindex in /sys/class/net/eth0/iflink, read through
 * /proc/<pid>/root (the container's own sysfs, mounted in its network namespace); `ip -o link`
 * in this namespace then names that index.
 */
export class VethPeerInterfaces implements ContainerInterfaces {
  constructor(
    private readonly procRoot = "/proc",
    private readonly run: ToolRunner = runTool,
    private readonly containerIface = "eth0",
  ) {}

  async nodeSideOf(pid: number): Promise<string | null> {
    let iflink: number;
    try {
      iflink = Number(readFileSync(join(this.procRoot, String(pid), "root", "sys", "class", "net", this.containerIface, "iflink"), "utf8").trim());
    } catch {
      return null;
    }
    const r = await this.run("ip", ["-o", "link", "show"]);
    if (r.code !== 0) throw new ExternalError(`ip -o link show failed: ${r.stderr.trim()}`);
    return interfaceByIndex(r.stdout, iflink);
  }
}

/** From `ip -o link show` ("17: veth1a2b@if16: <…>"), the name of the link with this index. */
export function interfaceByIndex(text: string, index: number): string | null {
  for (const line of text.split("\n")) {
    const m = /^(\d+):\s+([^:@\s]+)(?:@[^:\s]+)?:/.exec(line);
    if (m && Number(m[1]) === index) return m[2] ?? null;
  }
  return null;
}
