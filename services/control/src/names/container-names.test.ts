import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decideHolder, type NameClaim, type NamedContainer } from "./container-names.js";

const claim = (claimedAt: number, nodeId = "n1"): NameClaim => ({ name: "web", nodeId, claimId: "c1", claimedAt });
const GRACE = 120_000;
const NOW = 1_000_000;

describe("decideHolder", () => {
  const cases: Array<{ name: string; reported: NamedContainer[]; claim?: NameClaim; want: { kind: string; nodeId?: string } }> = [
    { name: "free: nothing reported, no claim", reported: [], want: { kind: "free" } },
    { name: "a reported running container holds it", reported: [{ id: "a".repeat(64), nodeId: "n2", state: "running" }], want: { kind: "held", nodeId: "n2" } },
    { name: "a stopped container still holds it", reported: [{ id: "b".repeat(64), nodeId: "n1", state: "exited" }], want: { kind: "held", nodeId: "n1" } },
    {
      name: "mid-migration (exited on the source, running on the destination): the running copy's node",
      reported: [
        { id: "s".repeat(64), nodeId: "n1", state: "exited" },
        { id: "d".repeat(64), nodeId: "n2", state: "running" },
      ],
      want: { kind: "held", nodeId: "n2" },
    },
    { name: "the registry wins over an old claim elsewhere", reported: [{ id: "c".repeat(64), nodeId: "n2", state: "running" }], claim: claim(0, "n1"), want: { kind: "held", nodeId: "n2" } },
    { name: "a young claim holds it while the container is created", reported: [], claim: claim(NOW - 5_000, "n3"), want: { kind: "held", nodeId: "n3" } },
    { name: "an old claim without a container is stale", reported: [], claim: claim(NOW - GRACE - 1), want: { kind: "free" } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideHolder(c.reported, c.claim, NOW, GRACE);
      assert.equal(d.kind, c.want.kind);
      if (d.kind === "held") assert.equal(d.nodeId, c.want.nodeId);
    });
  }
});
