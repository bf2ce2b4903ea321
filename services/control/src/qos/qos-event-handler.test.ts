import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UnrecoverableError } from "../../../../shared/src/errors.js";
import { createLogger } from "../../../../shared/src/logger.js";
import { pickDestination, QosEventHandler } from "./qos-event-handler.js";

describe("pickDestination", () => {
  const now = 100_000;
  const node = (id: string, cpuPct: number, containers: number, lastHeartbeatAt = now - 1_000) => ({ id, cpuPct, containers, lastHeartbeatAt });
  const cases = [
    { name: "least CPU among the up nodes, never the source", nodes: [node("n1", 5, 1), node("n2", 50, 1), node("n3", 20, 9)], source: "n1", want: "n3" },
    { name: "a down node is skipped", nodes: [node("n1", 5, 1), node("n2", 1, 1, now - 60_000), node("n3", 20, 9)], source: "n1", want: "n3" },
    { name: "ties: fewer containers", nodes: [node("n1", 5, 1), node("n2", 10, 4), node("n3", 10, 2)], source: "n1", want: "n3" },
    { name: "no other node up", nodes: [node("n1", 5, 1)], source: "n1", want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(pickDestination(c.nodes, c.source, now, 6_000), c.want));
});

describe("QosEventHandler", () => {
  const now = 100_000;
  const nodes = [
    { id: "n1", cpuPct: 50, containers: 3, lastHeartbeatAt: now - 500 },
    { id: "n2", cpuPct: 10, containers: 1, lastHeartbeatAt: now - 500 },
  ];
  const make = () => {
    const started: Array<{ container: string; to: string; reason?: string }> = [];
    const handler = new QosEventHandler({
      state: { listNodes: async () => nodes },
      migrations: {
        start: async (req) => {
          started.push(req);
          return { id: "m1" };
        },
      },
      downAfterMs: 6_000,
      log: createLogger({ level: "error", format: "text" }),
      now: () => now,
    });
    return { handler, started };
  };
  const msg = (routingKey: string, body: unknown) => ({ routingKey, body, exchange: "herd.events", redelivered: false });

  it("keeps each node's latest status and the actuations", async () => {
    const { handler } = make();
    await handler.handle(msg("node.n1.qos", { v: 1, kind: "qos.status", nodeId: "n1", enabled: true, periodMs: 1000, containers: [], at: 1 }));
    await handler.handle(msg("node.n1.qos", { v: 1, kind: "qos.status", nodeId: "n1", enabled: false, periodMs: 1000, containers: [], at: 2 }));
    await handler.handle(
      msg("node.n1.qos", {
        v: 1,
        kind: "qos.actuation",
        nodeId: "n1",
        containerId: "c",
        containerName: "svc",
        controller: "pid-guard",
        actuator: "tc",
        action: "set",
        limits: { rateKbit: 1000 },
        reason: "r",
        at: 3,
      }),
    );
    const view = handler.view();
    assert.deepEqual(
      view.nodes.map((n) => [n.nodeId, n.enabled, n.at]),
      [["n1", false, 2]],
    );
    assert.equal(view.actuations.length, 1);
  });

  it("a migration request starts a migration to the least loaded other node, with the node's reason", async () => {
    const { handler, started } = make();
    await handler.handle(
      msg("node.n1.qos", { v: 1, kind: "qos.migration-request", nodeId: "n1", container: "disk", reason: "QoS: latency target missed for 3 periods", at: 5 }),
    );
    assert.deepEqual(started, [{ container: "disk", to: "n2", reason: "QoS: latency target missed for 3 periods" }]);
  });

  it("rejects a malformed event and one published under another node's key", async () => {
    const { handler } = make();
    await assert.rejects(handler.handle(msg("node.n1.qos", { v: 1, kind: "qos.status", nodeId: "n1" })), UnrecoverableError);
    await assert.rejects(
      handler.handle(msg("node.n2.qos", { v: 1, kind: "qos.status", nodeId: "n1", enabled: true, periodMs: 1000, containers: [], at: 1 })),
      /does not match routing key/,
    );
  });
});
