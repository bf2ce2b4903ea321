import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ValidationError } from "../../../../shared/src/errors.js";
import type { AddressClaim, AddressClaims } from "./address-claims.js";
import { NetworkAttachments } from "./network-attachment.js";

/** Records calls; the claim semantics themselves are tested against Redis (test/integration/address-claims). */
class RecordingClaims implements AddressClaims {
  readonly range = { first: "10.77.0.128", last: "10.77.0.254" };
  readonly calls: string[] = [];
  claim(container: string, want?: string): Promise<string> {
    this.calls.push(`claim ${container} ${want ?? "-"}`);
    return Promise.resolve(want ?? "10.77.0.128");
  }
  release(container: string): Promise<void> {
    this.calls.push(`release ${container}`);
    return Promise.resolve();
  }
  list(): Promise<AddressClaim[]> {
    return Promise.resolve([]);
  }
}

describe("NetworkAttachments", () => {
  const cases: Array<{ name: string; withCluster: boolean; asked?: "cluster" | "none"; want?: string; expect: unknown }> = [
    { name: "default with a cluster network: cluster, next address", withCluster: true, expect: { network: "cluster", ipv4Address: "10.77.0.128" } },
    { name: "default without one: none", withCluster: false, expect: { network: "none" } },
    { name: "none asked: none, nothing claimed", withCluster: true, asked: "none", expect: { network: "none" } },
    { name: "a wanted address in range", withCluster: true, asked: "cluster", want: "10.77.0.200", expect: { network: "cluster", ipv4Address: "10.77.0.200" } },
    { name: "a wanted address out of range", withCluster: true, want: "10.77.0.5", expect: ValidationError },
    { name: "cluster asked without a cluster network", withCluster: false, asked: "cluster", expect: ValidationError },
    { name: "an address with network none", withCluster: true, asked: "none", want: "10.77.0.200", expect: ValidationError },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const claims = new RecordingClaims();
      const a = new NetworkAttachments(c.withCluster ? claims : undefined);
      if (c.expect === ValidationError) {
        await assert.rejects(a.attach("web", c.asked, c.want), ValidationError);
        assert.deepEqual(claims.calls, []);
      } else {
        assert.deepEqual(await a.attach("web", c.asked, c.want), c.expect);
      }
    });
  }

  it("gives the address back when the container was not created", async () => {
    const claims = new RecordingClaims();
    const a = new NetworkAttachments(claims);
    const got = await a.attach("web", undefined, undefined);
    await a.detach("web", got);
    await a.detach("web", { network: "none" });
    assert.deepEqual(claims.calls, ["claim web -", "release web"]);
  });
});
