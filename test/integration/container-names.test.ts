// The ContainerNames contract against the real Redis (as Herd's ACL user), under a random prefix:
// concurrent claims of one name from separate connections, compare-and-set on claim ids, and a
// migration's move that never frees the name.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RedisContainerNames } from "../../services/control/src/names/redis-container-names.js";
import type { NameClaim } from "../../services/control/src/names/container-names.js";
import { hostRedisUrl } from "../../shared/src/redis-credentials.js";

const prefix = `herd-test:${randomBytes(6).toString("hex")}:`;
const clients: Redis[] = [];
let names: RedisContainerNames;

const claimOf = (name: string, nodeId: string): NameClaim => ({ name, nodeId, claimId: randomUUID(), claimedAt: Date.now() });

describe("RedisContainerNames (real Redis)", () => {
  before(() => {
    for (let i = 0; i < 8; i++) clients.push(new Redis(hostRedisUrl(), { maxRetriesPerRequest: 2 }));
    names = new RedisContainerNames(clients[0]!, prefix);
  });
  after(async () => {
    const keys = await clients[0]!.keys(`${prefix}*`);
    if (keys.length) await clients[0]!.del(...keys);
    for (const c of clients) c.disconnect();
  });

  it("of 40 concurrent claims of one name over 8 connections exactly one wins; the rest see the winner", async () => {
    const attempts = Array.from({ length: 40 }, (_, i) => claimOf("race", `n${(i % 4) + 1}`));
    const results = await Promise.all(attempts.map((c, i) => new RedisContainerNames(clients[i % clients.length]!, prefix).claim(c)));
    const winners = attempts.filter((_, i) => results[i] === undefined);
    assert.equal(winners.length, 1);
    for (const r of results) if (r) assert.equal(r.claimId, winners[0]!.claimId);
    assert.deepEqual(await names.get("race"), winners[0]);
  });

  it("confirm, move and release act only on the claim they name", async () => {
    const mine = claimOf("web", "n1");
    assert.equal(await names.claim(mine), undefined);
    assert.equal(await names.confirm("web", "someone-else", "x", 1), false);
    const at = Date.now();
    assert.equal(await names.confirm("web", mine.claimId, "id-1", at), true);
    assert.deepEqual(await names.get("web"), { ...mine, containerId: "id-1", confirmedAt: at });
    // A migration commits: the name moves to the destination and is never free meanwhile.
    assert.equal(await names.move("web", mine.claimId, "n2", "id-2", at + 1), true);
    assert.deepEqual(await names.get("web"), { ...mine, nodeId: "n2", containerId: "id-2", confirmedAt: at + 1 });
    assert.notEqual(await names.claim(claimOf("web", "n3")), undefined);
    assert.equal(await names.release("web", "someone-else"), false);
    assert.equal(await names.release("web", mine.claimId), true);
    assert.equal(await names.get("web"), undefined);
  });

  it("takeOver replaces only the stale claim it was shown", async () => {
    const stale = claimOf("old", "n1");
    await names.claim(stale);
    const a = claimOf("old", "n2");
    const b = claimOf("old", "n3");
    const [ra, rb] = await Promise.all([names.takeOver(stale, a), new RedisContainerNames(clients[1]!, prefix).takeOver(stale, b)]);
    assert.equal([ra, rb].filter(Boolean).length, 1);
    assert.equal((await names.get("old"))?.claimId, ra ? a.claimId : b.claimId);
  });

  it("refuses a malformed stored claim instead of trusting it", async () => {
    await clients[0]!.set(`${prefix}name:broken`, "{not json");
    await assert.rejects(names.get("broken"), { name: "ExternalError" });
  });
});
