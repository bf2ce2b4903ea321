// The agent protocol contract against the in-memory agent (the real command processor and
// migration handlers over in-memory engines); test/integration/agent-protocol.test.ts runs the
// same contract against real engines, CRIU and rsync.
import { createLogger } from "../../../../shared/src/logger.js";
import { loopbackCommandClient } from "../../../control/src/commands/loopback-command-client.js";
import { agentProtocolContract } from "./agent-protocol.contract.js";
import { InMemoryAgents } from "./in-memory-agents.js";

agentProtocolContract("in-memory agent", async () => {
  const log = createLogger({ level: "error" });
  const cluster = await InMemoryAgents.start(["n1", "n2"], log);
  const { client } = loopbackCommandClient(cluster.agents, log);
  return {
    source: "n1",
    destination: "n2",
    send: (node, type, payload, opts) => client.send(node, type, payload, { commandId: opts.commandId, timeoutMs: 10_000 }),
    peerOf: (node) => cluster.peerOf(node),
    runContainer: async (name) => (await cluster.node("n1").runContainer(name)).id,
    copies: async (node, name) =>
      cluster
        .node(node)
        .copies(name)
        .map((c) => ({ id: c.id, running: c.status === "running" })),
    removeAll: async (name) => {
      for (const n of ["n1", "n2"]) for (const c of cluster.node(n).copies(name)) await cluster.node(n).runtime.remove(c.id, { force: true });
    },
    close: () => cluster.dispose(),
  };
});
