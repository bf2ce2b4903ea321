import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * One telemetry batch, written by one Lua script (one round trip, one command on the client).
 * bench:scale's profile of the control at 400 nodes showed ingest dominated by ioredis'
 * per-command work (≈ 64 commands a batch: building, encoding, decoding replies) and the garbage
 * it leaves (35 % of samples in GC); the same writes done inside Redis cost the client one call.
 * It is also atomic: the name-owner decision and the writes can no longer interleave with
 * another replica's batch.
 *
 * Layout (under the prefix, see RedisStateStore): nodes (set) · node:<id> (hash) ·
 * node:<id>:history (list) · node:<id>:containers (set) · container:<id> (string, JSON) ·
 * container:<id>:history (list) · names (hash name→id) · and for planning:
 * node:<id>:cpu-acc (hash container id → "bucket,sum,count", the interval in progress) and
 * container:<id>:cpu-plan (string "t:mean,t:mean,…", one mean CPU % per finished planning
 * interval starting at t, the newest `planPoints`).
 *
 * ARGV: prefix, nodeId, sentAt, historyLength, refreshExpiry (1/0), planIntervalMs, planPoints,
 * node history entry, k = number of node hash fields, trim histories now (1/0), k field/value
 * pairs, n = containers,
 * n × (id, name, running 1/0, record JSON, history entry, cpuPct).
 */
export const RECORD_TELEMETRY_LUA = `
local p, node, sentAt = ARGV[1], ARGV[2], tonumber(ARGV[3])
local histLen, refresh, trim = tonumber(ARGV[4]), ARGV[5] == "1", ARGV[10] == "1"
local planMs, planPoints = tonumber(ARGV[6]), tonumber(ARGV[7])
local nodeKey = p .. "node:" .. node
local setKey = nodeKey .. ":containers"
local accKey = nodeKey .. ":cpu-acc"
local i = 11
local fields = {}
for j = 1, tonumber(ARGV[9]) * 2 do fields[j] = ARGV[i]; i = i + 1 end
redis.call("SADD", p .. "nodes", node)
redis.call("HSET", nodeKey, unpack(fields))
redis.call("RPUSH", nodeKey .. ":history", ARGV[8])
if trim then redis.call("LTRIM", nodeKey .. ":history", -histLen, -1) end
local previous = {}
for _, id in ipairs(redis.call("SMEMBERS", setKey)) do previous[id] = true end
local acc = {}
local raw = redis.call("HGETALL", accKey)
for j = 1, #raw, 2 do acc[raw[j]] = raw[j + 1] end
local bucket = math.floor(sentAt / planMs)
local n = tonumber(ARGV[i]); i = i + 1
local first = i
-- Every name's owner in one call, every record in one MSET: each redis.call from Lua costs about
-- as much as the write it makes, so calls are what this script saves on.
local names, records = {}, {}
for c = 0, n - 1 do
  local at = first + c * 6
  names[c + 1] = ARGV[at + 1]
  records[2 * c + 1] = p .. "container:" .. ARGV[at]
  records[2 * c + 2] = ARGV[at + 3]
end
local owners = {}
if n > 0 then
  owners = redis.call("HMGET", p .. "names", unpack(names))
  redis.call("MSET", unpack(records))
end
local current, newAcc = {}, {}
for c = 1, n do
  local id, name, running, hist, cpu = ARGV[i], ARGV[i + 1], ARGV[i + 2] == "1", ARGV[i + 4], tonumber(ARGV[i + 5])
  i = i + 6
  current[id] = true
  local cKey = p .. "container:" .. id
  local isNew = not previous[id]
  if isNew then redis.call("SADD", setKey, id) end
  -- A name follows the running container carrying it, the freshest if several: a migration's
  -- created-not-started destination copy or its source's late batch must not take it.
  local owner = owners[c]
  if owner ~= id then
    local take = true
    if owner then
      local o = redis.call("GET", p .. "container:" .. owner)
      if o then
        local ok, rec0 = pcall(cjson.decode, o)
        if ok and type(rec0) == "table" then
          local oRunning = rec0.state == "running"
          take = (running and not oRunning) or (running == oRunning and (tonumber(rec0.updatedAt) or 0) <= sentAt)
        end
      end
    end
    if take then redis.call("HSET", p .. "names", name, id) end
  end
  local hKey = cKey .. ":history"
  redis.call("RPUSH", hKey, hist)
  -- Trimmed every trimEvery-th batch (and when new): a list holds at most historyLength + trimEvery
  -- points, and readers take the newest historyLength.
  if isNew or trim then redis.call("LTRIM", hKey, -histLen, -1) end
  -- A container that vanished with its node keeps its history for a day, then it goes.
  if isNew or refresh then redis.call("EXPIRE", hKey, 86400) end
  -- Planning series: the mean of each finished interval is appended when the next one begins.
  local b, sum, cnt = bucket, cpu, 1
  local a = acc[id]
  if a then
    local ab, as, an = string.match(a, "^([^,]+),([^,]+),([^,]+)$")
    ab, as, an = tonumber(ab), tonumber(as), tonumber(an)
    if ab == bucket then
      sum, cnt = as + cpu, an + 1
    elseif ab and ab < bucket and an and an > 0 then
      local pk = cKey .. ":cpu-plan"
      local s = redis.call("GET", pk)
      local point = string.format("%.0f:%.3f", ab * planMs, as / an)
      if s and #s > 0 then s = s .. "," .. point else s = point end
      local count = 1
      for _ in string.gmatch(s, ",") do count = count + 1 end
      while count > planPoints do
        s = string.sub(s, (string.find(s, ",", 1, true)) + 1)
        count = count - 1
      end
      redis.call("SET", pk, s, "EX", 86400)
    elseif ab and ab > bucket then
      -- A late batch from an interval already closed: it does not reopen it.
      b, sum, cnt = ab, as, an
    end
  end
  newAcc[#newAcc + 1] = id
  newAcc[#newAcc + 1] = string.format("%.0f,%.17g,%d", b, sum, cnt)
end
for id in pairs(previous) do
  if not current[id] then
    redis.call("SREM", setKey, id)
    redis.call("DEL", p .. "container:" .. id)
  end
end
redis.call("DEL", accKey)
if #newAcc > 0 then redis.call("HSET", accKey, unpack(newAcc)) end
return n
`;

const SHA = createHash("sha1").update(RECORD_TELEMETRY_LUA).digest("hex");

/** Runs the script by its SHA (the text goes over the wire only after a NOSCRIPT, e.g. when Redis restarted). */
export async function runRecordTelemetry(redis: Redis, args: ReadonlyArray<string | number>): Promise<void> {
  try {
    await redis.evalsha(SHA, 0, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    await redis.eval(RECORD_TELEMETRY_LUA, 0, ...args);
  }
}
