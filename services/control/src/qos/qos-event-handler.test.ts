import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pickDestination } from "./qos-event-handler.js";

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
