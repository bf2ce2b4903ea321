import type { Redis } from "ioredis";
import { z } from "zod";
import { rangeAddresses, type AddressRange } from "../../../../shared/src/contracts/cluster-network.js";
import { ConflictError, ExternalError } from "../../../../shared/src/errors.js";
import type { AddressClaim, AddressClaims } from "./address-claims.js";

// One script, so checking and taking an address is atomic even with several control processes.
// KEYS: by-address hash (ip -> JSON claim), by-name hash (container -> ip)
// ARGV: container, wanted ip or "", claim JSON, candidates...
const CLAIM = `
local have = redis.call('HGET', KEYS[2], ARGV[1])
if have then
  if ARGV[2] ~= '' and ARGV[2] ~= have then return {'held', have} end
  return {'ok', have}
end
local function take(ip)
  redis.call('HSET', KEYS[1], ip, ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[1], ip)
  return {'ok', ip}
end
if ARGV[2] ~= '' then
  if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return {'taken', ARGV[2]} end
  return take(ARGV[2])
end
for i = 4, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then return take(ARGV[i]) end
end
return {'full', ''}
`;

const RELEASE = `
local ip = redis.call('HGET', KEYS[2], ARGV[1])
if not ip then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ip)
return 1
`;

const StoredClaim = z.object({ container: z.string().min(1), claimedAt: z.number() });
const ScriptAnswer = z.tuple([z.enum(["ok", "held", "taken", "full"]), z.string()]);

/**
 * {@link AddressClaims} in Redis: `<prefix>ipam:addr` (address → {container, claimedAt}) and
 * `<prefix>ipam:name` (container → address), changed together by Lua scripts.
 */
export class RedisAddressClaims implements AddressClaims {
  private readonly byAddress: string;
  private readonly byName: string;

  constructor(
    private readonly redis: Redis,
    readonly range: AddressRange,
    prefix = "herd:",
    private readonly now: () => number = Date.now,
  ) {
    this.byAddress = `${prefix}ipam:addr`;
    this.byName = `${prefix}ipam:name`;
  }

  async claim(container: string, want?: string): Promise<string> {
    const raw: unknown = await this.redis.eval(
      CLAIM,
      2,
      this.byAddress,
      this.byName,
      container,
      want ?? "",
      JSON.stringify({ container, claimedAt: this.now() }),
      ...(want ? [] : rangeAddresses(this.range)),
    );
    const parsed = ScriptAnswer.safeParse(raw);
    if (!parsed.success) throw new ExternalError(`unexpected answer from the address claim script: ${JSON.stringify(raw)}`);
    const [status, address] = parsed.data;
    if (status === "ok") return address;
    if (status === "held") throw new ConflictError(`${container} already holds ${address} on the cluster network`);
    if (status === "taken") throw new ConflictError(`address ${address} is held by another container`);
    throw new ConflictError(`no free address left in the cluster network's range ${this.range.first}-${this.range.last}`);
  }

  async release(container: string): Promise<void> {
    await this.redis.eval(RELEASE, 2, this.byAddress, this.byName, container);
  }

  async list(): Promise<AddressClaim[]> {
    const all = await this.redis.hgetall(this.byAddress);
    const out: AddressClaim[] = [];
    for (const [address, json] of Object.entries(all)) {
      const c = StoredClaim.safeParse(safeJson(json));
      // A record we cannot read still holds its address (never hand it out twice): show it as such.
      out.push(c.success ? { address, ...c.data } : { address, container: "(unreadable claim)", claimedAt: 0 });
    }
    return out.sort((a, b) => a.address.localeCompare(b.address, undefined, { numeric: true }));
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
