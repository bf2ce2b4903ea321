// The agent protocol contract against the real agent's command side: the agent's CommandProcessor
// and migration handlers over two real Docker engines, real CRIU and a real rsync daemon per
// node (runtime-harness.ts), wired as services/compute-agent/src/main.ts wires them. Commands
// travel in-process (LoopbackAgents) instead of over RabbitMQ: the broker has its own contract,
// this one is about what agents answer. The same contract runs against the in-memory agent that
// the orchestrator's unit tests use.
import { agentProtocolContract } from "../../services/compute-agent/src/commands/agent-protocol.contract.js";
import { LoopbackAgents } from "../../services/compute-agent/src/commands/loopback-agents.js";
import { DockerMigrationEngineOps, migrationCommandHandlers } from "../../services/compute-agent/src/commands/migration-commands.js";
import { loopbackCommandClient } from "../../services/control/src/commands/loopback-command-client.js";
import { ensureCriu, importTestImage, startTwoNodes, TEST_IMAGE, testLogger, type LocalNode } from "./runtime-harness.js";

agentProtocolContract(
  "real agent (Docker, CRIU, rsync)",
  async () => {
    await ensureCriu();
    const cluster = await startTwoNodes("proto");
    const log = testLogger("agent-protocol");
    try {
      await importTestImage(cluster.a);
      const nodes: Record<string, LocalNode> = { a: cluster.a, b: cluster.b };
      const agents = new LoopbackAgents({ log });
      for (const [id, n] of Object.entries(nodes)) {
        agents.add(
          id,
          migrationCommandHandlers({ source: n.source, destination: n.destination, runtime: n.runtime, engine: new DockerMigrationEngineOps(n.docker), log }),
        );
      }
      const { client } = loopbackCommandClient(agents, log);
      const node = (id: string) => {
        const n = nodes[id];
        if (!n) throw new Error(`no node ${id}`);
        return n;
      };
      return {
        source: "a",
        destination: "b",
        send: (id, type, payload, opts) => client.send(id, type, payload, { commandId: opts.commandId, timeoutMs: 120_000, workTimeoutMs: 120_000 }),
        peerOf: (id) => node(id).endpoint,
        runContainer: async (name) => {
          const c = await cluster.a.docker.createContainer({
            name,
            Image: TEST_IMAGE,
            Cmd: ["/usr/local/bin/herd-counter", "8", "50"],
            HostConfig: { NetworkMode: "none", Mounts: [{ Type: "volume", Source: `${name}-vol`, Target: "/vol" }] },
          });
          await c.start();
          return c.id;
        },
        copies: async (id, name) =>
          (await node(id).docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } })).map((c) => ({ id: c.Id, running: c.State === "running" })),
        removeAll: async (name) => {
          for (const n of Object.values(nodes)) {
            for (const c of await n.docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } }))
              await n.docker.getContainer(c.Id).remove({ force: true });
          }
        },
        close: () => cluster.stop(),
      };
    } catch (err) {
      await cluster.stop().catch(() => undefined);
      throw err;
    }
  },
  { timeout: 240_000 },
);
