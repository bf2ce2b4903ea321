import type { Logger } from "../../../../shared/src/logger.js";
import type { LoopbackAgents } from "../../../compute-agent/src/commands/loopback-agents.js";
import { CommandClient } from "./command-client.js";

/** A control service's real CommandClient wired to in-process agents (tests); `kill` makes that control go silent for good. */
export function loopbackCommandClient(agents: LoopbackAgents, log: Logger): { client: CommandClient; kill: () => void } {
  const link = agents.connect();
  const client = new CommandClient(link.bus, log);
  link.onResult(
    (r) => client.handleResult(r),
    (p) => client.handleProgress(p),
  );
  return { client, kill: link.kill };
}
