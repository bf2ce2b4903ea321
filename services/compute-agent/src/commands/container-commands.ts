import type Dockerode from "dockerode";
import { CLUSTER_NETWORK_NAME } from "../../../../shared/src/contracts/cluster-network.js";
import type { ContainerRunPayload } from "../../../../shared/src/contracts/commands.js";
import { ExternalError, NotFoundError, ValidationError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import type { AddressAnnouncer } from "../runtime/address-announcer.js";
import type { CommandHandlers } from "./command-processor.js";

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/**
 * Handlers for plain container commands. Each is idempotent: running a container that already
 * exists under that name (re)starts it and returns its id; stopping or removing one that is
 * already stopped or gone succeeds.
 */
export function containerCommandHandlers(docker: Dockerode, log: Logger, announcer?: AddressAnnouncer): CommandHandlers {
  /**
   * A cluster address may have lived on another node a moment ago (a removed container's, taken
   * again): until the cluster bridge hears from this one, it keeps sending its frames there.
   */
  const announce = async (container: Dockerode.Container, address: string | undefined): Promise<void> => {
    if (!announcer || !address) return;
    try {
      const pid = (await container.inspect()).State.Pid;
      if (pid > 0) await announcer.announce(pid, address);
    } catch (err) {
      log.warn("Could not announce the container's address", { address, error: errorMessage(err) });
    }
  };
  return {
    ping: async () => ({ pong: true }),

    "container.run": async (p: ContainerRunPayload) => {
      log.info("Running container", { name: p.name, image: p.image });
      const existing = docker.getContainer(p.name);
      try {
        const info = await existing.inspect();
        if (!info.State.Running) {
          await existing.start();
          await announce(existing, p.ipv4Address);
        }
        return { id: info.Id, created: false };
      } catch (err) {
        if (statusOf(err) !== 404) throw new ExternalError(`cannot inspect ${p.name}`, { cause: err });
      }
      if (p.network === "cluster" && !p.ipv4Address)
        throw new ValidationError("payload.ipv4Address", "a container on the cluster network needs the address control claimed for it");
      let container: Dockerode.Container;
      try {
        container = await docker.createContainer({
          name: p.name,
          Image: p.image,
          Cmd: p.cmd.length ? p.cmd : undefined,
          Env: Object.entries(p.env).map(([k, v]) => `${k}=${v}`),
          Labels: { ...p.labels, "herd.managed": "true" },
          HostConfig: {
            // The cluster network (a macvlan over this node's interface) at control's address, or none.
            NetworkMode: p.network === "cluster" ? CLUSTER_NETWORK_NAME : "none",
            Memory: p.memoryBytes,
            NanoCpus: p.cpus ? Math.round(p.cpus * 1e9) : undefined,
          },
          ...(p.network === "cluster"
            ? { NetworkingConfig: { EndpointsConfig: { [CLUSTER_NETWORK_NAME]: { IPAMConfig: { IPv4Address: p.ipv4Address } } } } }
            : {}),
        });
      } catch (err) {
        if (statusOf(err) === 404 && /network/i.test((err as Error).message))
          throw new ValidationError(
            "payload.network",
            `this node's engine has no ${CLUSTER_NETWORK_NAME} network (herd up creates it; see README "Cluster network")`,
          );
        if (statusOf(err) === 404) throw new ValidationError("payload.image", `image ${p.image} is not on this node`);
        if (statusOf(err) === 409) throw new ExternalError(`a container named ${p.name} is being created concurrently`, { cause: err });
        throw new ExternalError(`cannot create ${p.name}: ${(err as Error).message}`, { cause: err, retryable: false });
      }
      await container.start();
      await announce(container, p.ipv4Address);
      log.info("Started container", { name: p.name, containerId: container.id });
      return { id: container.id, created: true };
    },

    "container.stop": async (p) => {
      try {
        await docker.getContainer(p.container).stop({ t: p.force ? 0 : 10 });
      } catch (err) {
        if (statusOf(err) === 304) return { stopped: true, already: true };
        if (statusOf(err) === 404) throw new NotFoundError(`no container ${p.container} on this node`);
        throw new ExternalError(`cannot stop ${p.container}`, { cause: err });
      }
      return { stopped: true };
    },

    "container.remove": async (p) => {
      try {
        await docker.getContainer(p.container).remove({ force: p.force, v: true });
      } catch (err) {
        if (statusOf(err) === 404) return { removed: true, already: true };
        throw new ExternalError(`cannot remove ${p.container}: ${(err as Error).message}`, { cause: err, retryable: false });
      }
      return { removed: true };
    },
  };
}
