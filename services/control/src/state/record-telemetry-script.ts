import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A planning series as stored (container:<id>:cpu-plan): "b;v,v,…", b the number of the first value's interval (its start
 * / the planning interval), then one mean CPU % per interval, oldest first, an empty value for an interval without samples.
 * It was "t:v,t:v,…" (each point with its time): three times the bytes, and at 20,000 series of 60 points each round read
 * 25 MB (bench:scale). appendPlanPoint reads either form and writes this one; parsePlan (redis-state-store.ts) reads both.
 */
const PLAN_SERIES_LUA = `
-- The old form "t:v,t:v" as "b;v,v" (values on the interval grid).
local function compactPlan(s, planMs)
  local b0, last, vals = nil, nil, {}
  for t, v in string.gmatch(s, "([^,:]+):([^,]+)") do
    local b = math.floor(tonumber(t) / planMs + 0.5)
    if b0 == nil then b0, last = b, b - 1 end
    if b > last then
      for _ = last + 1, b - 1 do vals[#vals + 1] = "" end
      vals[#vals + 1] = v
      last = b
    end
  end
  if b0 == nil then return nil end
  return b0 .. ";" .. table.concat(vals, ",")
end

-- Appends the mean of interval b to series key pk, keeping the newest planPoints intervals.
local function appendPlanPoint(pk, b, mean, planMs, planPoints)
  local v = string.gsub(string.gsub(string.format("%.3f", mean), "0+$", ""), "%.$", "")
  local s = redis.call("GET", pk)
  if s and string.find(s, ":", 1, true) then s = compactPlan(s, planMs) end
  local b0, body
  if s then
    local at = string.find(s, ";", 1, true)
    if at then b0, body = tonumber(string.sub(s, 1, at - 1)), string.sub(s, at + 1) end
  end
  if b0 == nil then
    s = b .. ";" .. v
  else
    local n = 1
    for _ in string.gmatch(body, ",") do n = n + 1 end
    local gap = b - (b0 + n)
    -- Not after the last value: already there.
    if gap < 0 then return end
    if gap >= planPoints then
      s = b .. ";" .. v
    else
      body = body .. string.rep(",", gap + 1) .. v
      n = n + gap + 1
      while n > planPoints do
        body = string.sub(body, (string.find(body, ",", 1, true)) + 1)
        b0, n = b0 + 1, n - 1
      end
      s = b0 .. ";" .. body
    end
  end
  redis.call("SET", pk, s, "EX", 86400)
end
`;

/** Shared by both scripts below. */
const INTERVAL_MEAN_LUA = `
-- Mean CPU (2nd field of "[t,cpu,...]") of the points of interval b in list h, at time now: the points since b began
-- are among the newest (now - b's start) / sampleMs + 2 (the 2 for late batches and clock skew), and at most w.
-- Reading only those, not the whole window, cut the in-progress read by a quarter to a third (LRANGE and parsing cost per point).
local function intervalMean(h, w, b, planMs, now, sampleMs)
  local n = w
  if now and sampleMs and sampleMs > 0 then n = math.max(1, math.min(w, math.floor((now - b * planMs) / sampleMs) + 2)) end
  local sum, cnt = 0, 0
  for _, s in ipairs(redis.call("LRANGE", h, -n, -1)) do
    local t, cpu = string.match(s, "^%[([^,]+),([^,]+)")
    t, cpu = tonumber(t), tonumber(cpu)
    if t and cpu and math.floor(t / planMs) == b then sum, cnt = sum + cpu, cnt + 1 end
  end
  return sum, cnt
end
`;

/**
 * Telemetry batches, written by one Lua script per call (one round trip, one command on the
 * client), several batches per call when the control has several waiting. bench:scale's profile
 * of the control at 400 nodes showed ingest dominated by ioredis' per-command work (≈ 64 commands
 * a batch: building, encoding, decoding replies) and the garbage it leaves; the same writes done
 * inside Redis cost the client one call. Each batch is atomic: the name-owner decision and the
 * writes can no longer interleave with another replica's batch.
 *
 * Layout (under the prefix, see RedisStateStore): nodes (set) · node:<id> (hash) ·
 * node:<id>:history (list) · node:<id>:containers (set) · container:<id> (string, JSON) ·
 * container:<id>:history (list) · names (hash name→id) · node:<id>:ingest (hash: `ids`, the
 * node's container ids as last written, so an unchanged set costs one HMGET instead of an
 * SMEMBERS; `bucket`, the planning interval in progress; `window`, history points that cover an
 * interval) · container:<id>:cpu-plan (string "b;mean,mean,…", one mean CPU % per finished
 * planning interval from interval number b on, the newest `planPoints`: PLAN_SERIES_LUA).
 *
 * The planning series costs nothing per sample: once a node's batches have moved `closeDelay` ms
 * into a new interval, the mean of the interval just finished is computed from each container's
 * newest `window` history points (bench:scale: the per-sample accumulator it replaces cost Redis
 * ~0.1 ms a batch). The delay is the node's own (a hash of its id, within the first half of the
 * interval): every node's clock crosses an interval's start in the same second, and closing 20,000
 * series in that second stalled Redis for ~0.5 s every interval (bench:scale at 1,000 nodes: a
 * publish→stored p99 of 400–550 ms each 10 s, and the queue backlog behind it).
 *
 * ARGV: prefix, historyLength, planIntervalMs, planPoints, B = number of batches, then per batch:
 * nodeId, sentAt, sample interval (ms), refreshExpiry (1/0), trim histories now (1/0), window, closeDelay (ms), node history entry,
 * k = node hash fields, k field/value pairs, n = containers, n × (id, name, running 1/0, record
 * JSON, history entry).
 */
export const RECORD_TELEMETRY_LUA = `
local p = ARGV[1]
local histLen, planMs, planPoints = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local B = tonumber(ARGV[5])
local i = 6
local stored = 0

${INTERVAL_MEAN_LUA}
${PLAN_SERIES_LUA}
for _ = 1, B do
  local node, sentAt, sampleMs = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local refresh, trim, window, closeDelay, nodeHist = ARGV[i + 3] == "1", ARGV[i + 4] == "1", tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6]), ARGV[i + 7]
  local k = tonumber(ARGV[i + 8])
  i = i + 9
  local nodeKey = p .. "node:" .. node
  local setKey = nodeKey .. ":containers"
  local ingKey = nodeKey .. ":ingest"
  local fields = {}
  for j = 1, k * 2 do fields[j] = ARGV[i]; i = i + 1 end
  redis.call("SADD", p .. "nodes", node)
  redis.call("HSET", nodeKey, unpack(fields))
  redis.call("RPUSH", nodeKey .. ":history", nodeHist)
  if trim then redis.call("LTRIM", nodeKey .. ":history", -histLen, -1) end
  local n = tonumber(ARGV[i]); i = i + 1
  local first = i
  i = i + n * 5
  local ids, names, records = {}, {}, {}
  for c = 0, n - 1 do
    local at = first + c * 5
    ids[c + 1] = ARGV[at]
    names[c + 1] = ARGV[at + 1]
    records[2 * c + 1] = p .. "container:" .. ARGV[at]
    records[2 * c + 2] = ARGV[at + 3]
  end
  local sig = table.concat(ids, " ")
  local st = redis.call("HMGET", ingKey, "ids", "bucket")
  local bucket = math.floor(sentAt / planMs)
  local open = tonumber(st[2])
  -- The node's first batch at least closeDelay into a later interval closes the one in progress (at once when a whole
  -- interval went by without a batch).
  local closing = open ~= nil and open < bucket and (open < bucket - 1 or sentAt - bucket * planMs >= closeDelay)
  local previous
  if st[1] ~= sig then
    previous = {}
    for _, id in ipairs(redis.call("SMEMBERS", setKey)) do previous[id] = true end
  end
  -- Every name's owner in one call, every record in one MSET: each redis.call from Lua costs about
  -- as much as the write it makes, so calls are what this script saves on.
  local owners = {}
  if n > 0 then
    owners = redis.call("HMGET", p .. "names", unpack(names))
    redis.call("MSET", unpack(records))
  end
  local current = {}
  for c = 1, n do
    local at = first + (c - 1) * 5
    local id, name, running, hist = ARGV[at], ARGV[at + 1], ARGV[at + 2] == "1", ARGV[at + 4]
    current[id] = true
    local cKey = p .. "container:" .. id
    local isNew = previous ~= nil and not previous[id]
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
    if closing then
      local sum, cnt = intervalMean(hKey, window, open, planMs, sentAt, sampleMs)
      if cnt > 0 then appendPlanPoint(cKey .. ":cpu-plan", open, sum / cnt, planMs, planPoints) end
    end
    redis.call("RPUSH", hKey, hist)
    -- Trimmed every trimEvery-th batch (and when new): a list holds at most historyLength + trimEvery
    -- points, and readers take the newest historyLength.
    if isNew or trim then redis.call("LTRIM", hKey, -histLen, -1) end
    -- A container that vanished with its node keeps its history for a day, then it goes.
    if isNew or refresh then redis.call("EXPIRE", hKey, 86400) end
  end
  if previous then
    for id in pairs(previous) do
      if not current[id] then
        redis.call("SREM", setKey, id)
        redis.call("DEL", p .. "container:" .. id)
      end
    end
    redis.call("HSET", ingKey, "ids", sig)
  end
  -- A late batch from an interval already closed does not reopen it.
  if open == nil or closing then redis.call("HSET", ingKey, "bucket", bucket, "window", window, "sampleMs", sampleMs) end
  stored = stored + 1
end
return stored
`;

/**
 * The planning interval in progress on some nodes, computed from the histories (the same rule as
 * at ingest): ARGV prefix, planIntervalMs, now (ms), node ids…; returns a flat list of container id,
 * interval start (ms), mean CPU %.
 */
export const PLAN_CURRENT_LUA = `
local p, planMs, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
${INTERVAL_MEAN_LUA}
for a = 4, #ARGV do
  local nodeKey = p .. "node:" .. ARGV[a]
  local st = redis.call("HMGET", nodeKey .. ":ingest", "bucket", "window", "sampleMs")
  -- The interval in progress (or one just finished whose node has not reached its closeDelay) lies within the newest
  -- window points. (No sampleMs: written by an older control; the whole window is read.)
  local b, w, sampleMs = tonumber(st[1]), tonumber(st[2]), tonumber(st[3])
  if b and w then
    for _, id in ipairs(redis.call("SMEMBERS", nodeKey .. ":containers")) do
      local sum, cnt = intervalMean(p .. "container:" .. id .. ":history", w, b, planMs, sampleMs and now, sampleMs)
      if cnt > 0 then
        out[#out + 1] = id
        out[#out + 1] = string.format("%.0f", b * planMs)
        out[#out + 1] = string.format("%.17g", sum / cnt)
      end
    end
  end
end
return out
`;

const shaOf = (script: string) => createHash("sha1").update(script).digest("hex");
const SHAS = new Map([RECORD_TELEMETRY_LUA, PLAN_CURRENT_LUA].map((s) => [s, shaOf(s)]));

/** Runs a script by its SHA (the text goes over the wire only after a NOSCRIPT, e.g. when Redis restarted). */
export async function runScript(redis: Redis, script: string, args: ReadonlyArray<string | number>): Promise<unknown> {
  const sha = SHAS.get(script) ?? shaOf(script);
  try {
    return await redis.evalsha(sha, 0, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return redis.eval(script, 0, ...args);
  }
}
