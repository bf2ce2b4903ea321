import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decideHolder, type NameClaim, type NamedContainer } from "./container-names.js";

const claim = (claimedAt: number, nodeId = "n1", confirmedAt?: number): NameClaim => ({
  name: "web",
  nodeId,
  claimId: "c1",
  claimedAt,
  ...(confirmedAt === undefined ? {} : { containerId: "x".repeat(64), confirmedAt }),
});
const NOW = 1_000_000;
const timing = (claimNodeReportedAt?: number) => ({ now: NOW, pendingGraceMs: 120_000, reportLagMs: 5_000, claimNodeReportedAt });

describe("decideHolder", () => {
  const cases: Array<{ name: string; reported: NamedContainer[]; claim?: NameClaim; reportedAt?: number; want: { kind: string; nodeId?: string } }> = [
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
    {
      name: "the registry wins over an old claim elsewhere",
      reported: [{ id: "c".repeat(64), nodeId: "n2", state: "running" }],
      claim: claim(0, "n1"),
      want: { kind: "held", nodeId: "n2" },
    },
    { name: "a young claim holds it while the container is created", reported: [], claim: claim(NOW - 5_000, "n3"), want: { kind: "held", nodeId: "n3" } },
    { name: "an unconfirmed claim past the grace is stale (the node never answered)", reported: [], claim: claim(NOW - 120_001), want: { kind: "free" } },
    {
      name: "a confirmed claim holds it until its node reported without the container",
      reported: [],
      claim: claim(NOW - 2_000, "n2", NOW - 1_000),
      reportedAt: NOW - 500,
      want: { kind: "held", nodeId: "n2" },
    },
    {
      name: "a confirmed claim whose node has never reported holds it",
      reported: [],
      claim: claim(NOW - 200_000, "n2", NOW - 199_000),
      want: { kind: "held", nodeId: "n2" },
    },
    {
      name: "a confirmed claim is free once the node reported well after it without the container (removed)",
      reported: [],
      claim: claim(NOW - 20_000, "n2", NOW - 19_000),
      reportedAt: NOW - 1_000,
      want: { kind: "free" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideHolder(c.reported, c.claim, timing(c.reportedAt));
      assert.equal(d.kind, c.want.kind);
      if (d.kind === "held") assert.equal(d.nodeId, c.want.nodeId);
    });
  }
});
