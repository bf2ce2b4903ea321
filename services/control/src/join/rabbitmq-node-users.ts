import { nodePermissions } from "../../../../shared/src/broker-permissions.js";
import { ExternalError, TimeoutError, errorMessage } from "../../../../shared/src/errors.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { EXCHANGES, QUEUES, ROUTING, queueOptions } from "../../../../shared/src/topology.js";
import type { NodeUsers } from "./node-users.js";

/** The user name a node gets on the broker (the same as `herd up` gives its nodes). */
export function nodeUserName(nodeId: string, prefix = "herd-node-"): string {
  return `${prefix}${nodeId}`;
}

/**
 * {@link NodeUsers} through RabbitMQ's management HTTP API as the administrator: PUT the user,
 * its vhost permissions and its two topic permissions (the rules of shared/src/broker-permissions.ts),
 * then its command queue and binding (as control's own topology declares them).
 */
export class RabbitmqNodeUsers implements NodeUsers {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(
    private readonly o: { managementUrl: string; adminUser: string; adminPassword: string; vhost: string; log: Logger; fetchFn?: typeof fetch; timeoutMs?: number },
  ) {
    this.base = o.managementUrl.replace(/\/$/, "");
    this.fetchFn = o.fetchFn ?? fetch;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  async grant(nodeId: string, password: string): Promise<void> {
    const user = nodeUserName(nodeId);
    const log = this.o.log.child({ nodeId });
    log.debug("Granting node broker user", { user, vhost: this.o.vhost });
    const perms = nodePermissions(nodeId);
    try {
      await this.call("PUT", `/api/users/${enc(user)}`, { password, tags: "" });
      await this.call("PUT", `/api/permissions/${enc(this.o.vhost)}/${enc(user)}`, perms.permission);
      for (const tp of perms.topicPermissions) await this.call("PUT", `/api/topic-permissions/${enc(this.o.vhost)}/${enc(user)}`, tp);
      // The node's command queue, declared as control declares it (shared/src/topology.ts): the
      // node's user may consume it but has no rights on the commands exchange to bind it.
      const queue = QUEUES.commandsFor(nodeId);
      const v = enc(this.o.vhost);
      await this.call("PUT", `/api/queues/${v}/${enc(queue)}`, { durable: true, auto_delete: false, arguments: queueOptions.commands.arguments });
      await this.call("POST", `/api/bindings/${v}/e/${enc(EXCHANGES.commands)}/q/${enc(queue)}`, { routing_key: ROUTING.command(nodeId), arguments: {} });
    } catch (err) {
      log.warn("Failed to grant node broker user", { user, error: errorMessage(err) });
      throw err;
    }
    log.info("Granted node broker user", { user, vhost: this.o.vhost });
  }

  private async call(method: string, path: string, body: unknown): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers: { authorization: `Basic ${Buffer.from(`${this.o.adminUser}:${this.o.adminPassword}`).toString("base64")}`, "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && err.name === "TimeoutError") throw new TimeoutError(`RabbitMQ management ${method} ${path}: no answer within ${this.timeoutMs} ms`, { cause: err });
      throw new ExternalError(`RabbitMQ management at ${this.base} is not reachable: ${errorMessage(err)}`, { cause: err });
    }
    // The path never holds a secret and request bodies (passwords) are never echoed.
    if (!res.ok) throw new ExternalError(`RabbitMQ management ${method} ${path} failed: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
