import { randomBytes } from "node:crypto";
import { ConflictError } from "../../../../shared/src/errors.js";
import { nodeUserName } from "./rabbitmq-node-users.js";
import type { NodeUsers } from "./node-users.js";

/** What a joining node is told: everything its agent needs, and nothing of anyone else's. */
export interface JoinAnswer {
  nodeId: string;
  /** AMQP URL with the node's own user and a fresh password. */
  amqpUrl: string;
  brokerUser: string;
  transferSecret: string;
}

export interface NodeJoinConfig {
  /** host or host:port the nodes reach AMQP at. */
  brokerAddress: string;
  vhost: string;
  transferSecret: string;
}

/** The node's AMQP URL: its own user at the broker address (port 5672 unless given). Pure. */
export function nodeAmqpUrl(cfg: Pick<NodeJoinConfig, "brokerAddress" | "vhost">, nodeId: string, password: string): string {
  const hostPort = /:\d+$/.test(cfg.brokerAddress) ? cfg.brokerAddress : `${cfg.brokerAddress}:5672`;
  return `amqp://${encodeURIComponent(nodeUserName(nodeId))}:${encodeURIComponent(password)}@${hostPort}/${encodeURIComponent(cfg.vhost)}`;
}

/**
 * Node join: a fresh password, the node's least-privilege broker user granted with it, and the
 * answer the node writes to its .env. Without configuration (no management URL, admin password,
 * broker address or transfer secret) every join is refused with a message naming what is missing.
 */
export class NodeJoin {
  constructor(
    private readonly users: NodeUsers | undefined,
    private readonly cfg: NodeJoinConfig | undefined,
    private readonly missing: string[] = [],
    private readonly secret: () => string = () => randomBytes(24).toString("hex"),
  ) {}

  async join(nodeId: string): Promise<JoinAnswer> {
    if (!this.users || !this.cfg) {
      throw new ConflictError(`node join is not configured on this control (set ${this.missing.join(", ")}; the compose control profile sets them)`);
    }
    const password = this.secret();
    await this.users.grant(nodeId, password);
    return { nodeId, amqpUrl: nodeAmqpUrl(this.cfg, nodeId, password), brokerUser: nodeUserName(nodeId), transferSecret: this.cfg.transferSecret };
  }
}
