import type Dockerode from "dockerode";
import type { ContainerAddresses } from "./pid-guard-controller.js";

/** The container's first IPv4 address on any Docker network, from one inspect (cached per id). */
export class DockerContainerAddresses implements ContainerAddresses {
  private readonly cache = new Map<string, string | null>();

  constructor(private readonly docker: Dockerode) {}

  async addressOf(containerId: string): Promise<string | null> {
    const hit = this.cache.get(containerId);
    if (hit !== undefined) return hit;
    const info = await this.docker.getContainer(containerId).inspect();
    const address =
      Object.values(info.NetworkSettings.Networks ?? {})
        .map((n) => n.IPAddress)
        .find((ip) => typeof ip === "string" && ip !== "") ?? null;
    if (this.cache.size > 1_000) this.cache.clear();
    this.cache.set(containerId, address);
    return address;
  }
}
