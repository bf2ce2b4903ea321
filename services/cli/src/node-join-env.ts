import { z } from "zod";
import { NodeId } from "../../../shared/src/contracts/common.js";
import { ValidationError } from "../../../shared/src/errors.js";

/** Control's answer to POST /nodes/{id}/join (services/control/src/join/node-join-routes.ts). */
export const JoinAnswer = z.object({
  nodeId: NodeId,
  amqpUrl: z.string().regex(/^amqps?:\/\//),
  brokerUser: z.string(),
  transferSecret: z.string().min(16),
});
export type JoinAnswer = z.infer<typeof JoinAnswer>;

export interface NodeHostOptions {
  address: string;
  /** Networks allowed to send migration transfers to this node; default: the address's /24. */
  transferAllow?: string;
  dockerSocket?: string;
  dockerDataRoot?: string;
  dockerExecRoot?: string;
  /** The agent's own state (journal, process groups) on the host. */
  agentStateDir?: string;
}

const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The compute profile's .env for one node, from control's answer. Pure; values never need quoting. */
export function computeEnvFile(answer: JoinAnswer, host: NodeHostOptions): string {
  const m = ipv4.exec(host.address);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new ValidationError("address", `must be this node's IPv4 address, got "${host.address}"`);
  const allow = host.transferAllow ?? `${m[1]}.${m[2]}.${m[3]}.0/24`;
  const lines: [string, string | undefined][] = [
    ["HERD_NODE_ID", answer.nodeId],
    ["HERD_NODE_ADDRESS", host.address],
    ["HERD_AGENT_AMQP_URL", answer.amqpUrl],
    ["HERD_TRANSFER_SECRET", answer.transferSecret],
    ["HERD_TRANSFER_ALLOW", allow],
    ["HERD_DOCKER_SOCKET", host.dockerSocket],
    ["HERD_DOCKER_DATA_ROOT", host.dockerDataRoot],
    ["HERD_DOCKER_EXEC_ROOT", host.dockerExecRoot],
    ["HERD_AGENT_STATE_DIR", host.agentStateDir],
  ];
  for (const [k, v] of lines) {
    if (v !== undefined && /[\s"'$`\\#]/.test(v)) throw new ValidationError(k, "must not contain spaces, quotes, $, ` or #");
  }
  return [
    `# Written by 'herd node join' for node ${answer.nodeId}: its own broker user (${answer.brokerUser}), never the administrator.`,
    "# Secrets: keep this file 0600 and out of version control.",
    ...lines.filter((l): l is [string, string] => l[1] !== undefined).map(([k, v]) => `${k}=${v}`),
    "",
  ].join("\n");
}
