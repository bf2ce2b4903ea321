import { z } from "zod";
import { ValidationError } from "../errors.js";

/**
 * The cluster network: one L2 segment spanning every node (the nodes' interfaces on the cluster
 * bridge), one subnet, and on each node's engine a Docker macvlan network of this name over the
 * node's interface. Control owns the addresses (claims in Redis): a container keeps its address
 * wherever it runs, and Docker 20.10 derives the MAC from the IP, so peers' neighbour entries stay
 * valid across a move.
 */
export const CLUSTER_NETWORK_NAME = "herd-cluster";

/** How `herd run` connects a new container: the cluster network or no network at all. */
export const NetworkChoice = z.enum(["cluster", "none"]);
export type NetworkChoice = z.infer<typeof NetworkChoice>;

export const Ipv4 = z.ipv4();

export function ipToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new ValidationError("address", `not an IPv4 address: "${ip}"`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** An inclusive range of addresses the cluster hands out, e.g. "10.77.0.128-10.77.0.254". */
export interface AddressRange {
  first: string;
  last: string;
}

export function parseAddressRange(text: string, field = "range"): AddressRange {
  const m = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(text.trim());
  if (!m) throw new ValidationError(field, `must be "<first>-<last>" IPv4 addresses, got "${text}"`);
  const [first, last] = [m[1]!, m[2]!];
  if (ipToInt(first) > ipToInt(last)) throw new ValidationError(field, `first address ${first} is after last ${last}`);
  if (ipToInt(last) - ipToInt(first) > 65_535) throw new ValidationError(field, "at most 65536 addresses");
  return { first, last };
}

export function formatAddressRange(r: AddressRange): string {
  return `${r.first}-${r.last}`;
}

export function rangeSize(r: AddressRange): number {
  return ipToInt(r.last) - ipToInt(r.first) + 1;
}

export function inRange(r: AddressRange, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= ipToInt(r.first) && n <= ipToInt(r.last);
}

/** Every address of the range in order (ranges are at most 65536 long). */
export function rangeAddresses(r: AddressRange): string[] {
  const out: string[] = [];
  for (let n = ipToInt(r.first); n <= ipToInt(r.last); n++) out.push(intToIp(n));
  return out;
}

/** The MAC Docker 20.10 gives an endpoint with address `ip` (02:42 + the four octets). */
export function dockerMacFor(ip: string): string {
  const n = ipToInt(ip);
  return ["02", "42", ...[24, 16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).padStart(2, "0"))].join(":");
}
