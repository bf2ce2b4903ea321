import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PeerWire } from "../../../../shared/src/contracts/migration-protocol.js";
import type { Logger } from "../../../../shared/src/logger.js";
import { InMemoryNode, type FakeStatus } from "../runtime/in-memory-node.js";
import { LoopbackAgents } from "./loopback-agents.js";
import { migrationCommandHandlers } from "./migration-commands.js";

/**
 * The in-memory agent: nodes whose world is in memory (see in-memory-node.ts), each running the
 * agent's real CommandProcessor and real migration command handlers, reached through
 * LoopbackAgents (queues, redelivery, crashes, injected faults).
 */
export class InMemoryAgents {
  readonly agents: LoopbackAgents;
  private readonly nodes = new Map<string, InMemoryNode>();

  private constructor(
    private readonly root: string,
    readonly log: Logger,
  ) {
    this.agents = new LoopbackAgents({ log });
  }

  /** Nodes `ids` under a fresh temporary directory; `clocks` gives a node its own clock (agent timestamps). */
  static async start(ids: string[], log: Logger, clocks: Record<string, () => number> = {}): Promise<InMemoryAgents> {
    const cluster = new InMemoryAgents(await mkdtemp(join(tmpdir(), "herd-mem-agents-")), log);
    for (const id of ids) {
      const clock = clocks[id];
      const node = new InMemoryNode({
        id,
        root: join(cluster.root, id),
        log,
        peers: (address, port) => [...cluster.nodes.values()].find((n) => n.address === address && n.port === port),
        ...(clock ? { now: clock } : {}),
      });
      cluster.nodes.set(id, node);
      cluster.agents.add(id, migrationCommandHandlers(node.migrationHandlerDeps()), node.now);
    }
    return cluster;
  }

  node(id: string): InMemoryNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Where `id`'s transfer daemon listens (what control puts in the steps' `peer`). */
  peerOf(id: string): PeerWire {
    const n = this.node(id);
    return { address: n.address, port: n.port };
  }

  /** Every container named `name` on any node. */
  copies(name: string): Array<{ node: string; id: string; status: FakeStatus; memory: number }> {
    return [...this.nodes.values()].flatMap((n) => n.copies(name));
  }

  running(name: string): Array<{ node: string; id: string; memory: number }> {
    return this.copies(name).filter((c) => c.status === "running");
  }

  async dispose(): Promise<void> {
    // Work a test abandoned may still be writing files here for a moment.
    await rm(this.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}
