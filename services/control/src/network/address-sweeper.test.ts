import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AddressClaim } from "./address-claims.js";
import { decideSweep } from "./address-sweeper.js";

const GRACE = 300_000;
const claim = (container: string, address: string, claimedAt = 0): AddressClaim => ({ container, address, claimedAt });

function sweep(claims: AddressClaim[], now: number, o: { reported?: string[]; moving?: string[]; missingSince?: Map<string, number> } = {}) {
  return decideSweep({
    claims,
    reported: new Set(o.reported ?? []),
    moving: new Set(o.moving ?? []),
    missingSince: o.missingSince ?? new Map(),
    now,
    graceMs: GRACE,
  });
}

describe("decideSweep", () => {
  it("releases a claim only after its container has been missing for the whole grace", () => {
    const claims = [claim("gone", "10.77.0.130")];
    const first = sweep(claims, 1_000_000);
    assert.deepEqual(first.release, [], "first seen missing: not yet");
    assert.deepEqual([...first.missingSince], [["gone", 1_000_000]]);
    const early = sweep(claims, 1_000_000 + GRACE - 1, { missingSince: first.missingSince });
    assert.deepEqual(early.release, []);
    const late = sweep(claims, 1_000_000 + GRACE, { missingSince: early.missingSince });
    assert.deepEqual(late.release, claims);
    assert.equal(late.missingSince.size, 0);
  });

  it("keeps the address of a reported, a moving or a young container, and forgets a name seen again", () => {
    const now = 10_000_000;
    const claims = [claim("web", "10.77.0.130"), claim("moving", "10.77.0.131"), claim("new", "10.77.0.132", now - 1_000)];
    const missingSince = new Map([
      ["web", 0],
      ["moving", 0],
      ["new", 0],
    ]);
    const d = sweep(claims, now, { reported: ["web"], moving: ["moving"], missingSince });
    assert.deepEqual(d.release, []);
    assert.equal(d.missingSince.size, 0, "a container seen again starts its clock over");
  });
});
