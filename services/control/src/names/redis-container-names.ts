import type { Redis } from "ioredis";
import { ExternalError } from "../../../../shared/src/errors.js";
import { NameClaim, type ContainerNames } from "./container-names.js";

// Each script reads the claim, compares, writes: atomic in Redis, so no two callers interleave.
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1])
return false`;
const TAKE_OVER = `
local cur = redis.call('GET', KEYS[1])
if not cur or cjson.decode(cur).claimId ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`;
const UPDATE = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local c = cjson.decode(cur)
if c.claimId ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then c.nodeId = ARGV[2] end
c.containerId = ARGV[3]
c.confirmedAt = tonumber(ARGV[4])
redis.call('SET', KEYS[1], cjson.encode(c))
return 1`;
const RELEASE = `
local cur = redis.call('GET', KEYS[1])
if not cur or cjson.decode(cur).claimId ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

/** {@link ContainerNames} in Redis: one JSON string per name at `<prefix>name:<name>`, changed only by Lua scripts. */
export class RedisContainerNames implements ContainerNames {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "herd:",
  ) {}

  private key(name: string): string {
    return `${this.prefix}name:${name}`;
  }

  private parse(raw: unknown): NameClaim | undefined {
    if (typeof raw !== "string") return undefined;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      throw new ExternalError(`stored name claim is not JSON: ${raw.slice(0, 80)}`, { cause: err, retryable: false });
    }
    const parsed = NameClaim.safeParse(json);
    if (!parsed.success) throw new ExternalError(`stored name claim is malformed: ${parsed.error.message}`, { retryable: false });
    return parsed.data;
  }

  async claim(c: NameClaim): Promise<NameClaim | undefined> {
    const claim = NameClaim.parse(c);
    return this.parse(await this.redis.eval(CLAIM, 1, this.key(claim.name), JSON.stringify(claim)));
  }

  async takeOver(stale: NameClaim, next: NameClaim): Promise<boolean> {
    if (stale.name !== next.name) throw new ExternalError("takeOver: names differ", { retryable: false });
    return (await this.redis.eval(TAKE_OVER, 1, this.key(next.name), stale.claimId, JSON.stringify(NameClaim.parse(next)))) === 1;
  }

  async confirm(name: string, claimId: string, containerId: string, at: number): Promise<boolean> {
    return (await this.redis.eval(UPDATE, 1, this.key(name), claimId, "", containerId, String(at))) === 1;
  }

  async move(name: string, claimId: string, nodeId: string, containerId: string, at: number): Promise<boolean> {
    return (await this.redis.eval(UPDATE, 1, this.key(name), claimId, nodeId, containerId, String(at))) === 1;
  }

  async release(name: string, claimId: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE, 1, this.key(name), claimId)) === 1;
  }

  async get(name: string): Promise<NameClaim | undefined> {
    return this.parse(await this.redis.get(this.key(name)));
  }
}
