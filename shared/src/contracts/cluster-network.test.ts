import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dockerMacFor, inRange, intToIp, ipToInt, parseAddressRange, rangeAddresses, rangeSize } from "./cluster-network.js";
import { ValidationError } from "../errors.js";

describe("cluster network addresses", () => {
  it("converts addresses to numbers and back", () => {
    for (const ip of ["0.0.0.0", "10.77.0.130", "255.255.255.255"]) assert.equal(intToIp(ipToInt(ip)), ip);
    assert.equal(ipToInt("10.77.0.1") + 1, ipToInt("10.77.0.2"));
    assert.throws(() => ipToInt("10.77.0.256"), ValidationError);
  });

  it("parses a range and lists it", () => {
    const r = parseAddressRange("10.77.0.250-10.77.1.1");
    assert.equal(rangeSize(r), 8);
    assert.deepEqual(rangeAddresses(r).slice(-3), ["10.77.0.255", "10.77.1.0", "10.77.1.1"]);
    assert.ok(inRange(r, "10.77.1.0"));
    assert.ok(!inRange(r, "10.77.0.249"));
  });

  for (const bad of ["10.77.0.9", "10.77.0.9-10.77.0.1", "a-b", "10.0.0.0-10.2.0.0"]) {
    it(`refuses the range "${bad}"`, () => assert.throws(() => parseAddressRange(bad), ValidationError));
  }

  it("predicts Docker 20.10's MAC for an address (as measured: 10.77.0.130 -> 02:42:0a:4d:00:82)", () => {
    assert.equal(dockerMacFor("10.77.0.130"), "02:42:0a:4d:00:82");
  });
});
