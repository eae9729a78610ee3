/**
 * Lua shared by the limits scripts (check, ip, adjust, return): the sliding window of sliding-window.ts,
 * kept in fields of a hash: `rl` the oldest bucket still counted, `rn` the requests in buckets rl and
 * later, `r<i>` the requests in bucket i. Buckets exist only from rl to rl + 60, so evicting is at most 61 fields, and
 * usually none or one.
 */
export const WINDOW_LUA = `
local function bucket_field(i) return 'r' .. string.format('%.0f', i) end

-- the window as seen at now (bucket width b µs), evicting buckets that left it; w.n = requests counted
local function win_read(k, b, now)
  local cur = math.floor(now / b)
  local first = cur - 60
  local h = redis.call('HMGET', k, 'rl', 'rn')
  local lo = tonumber(h[1])
  if lo == nil then return { cur = cur, lo = first, n = 0 } end
  local n = tonumber(h[2]) or 0
  if lo < first then
    local f = {}
    for i = lo, math.min(first - 1, lo + 60) do f[#f + 1] = bucket_field(i) end
    local v = redis.call('HMGET', k, unpack(f))
    for i = 1, #f do n = n - (tonumber(v[i]) or 0) end
    redis.call('HDEL', k, unpack(f))
    n = math.max(n, 0)
    redis.call('HSET', k, 'rl', string.format('%.0f', first), 'rn', n)
    lo = first
  end
  -- a clock that stepped back must not write below rl, where eviction would never find the count
  return { cur = math.max(cur, lo), lo = lo, n = n }
end

-- each bucket's count from lo to the current one (for Retry-After and Reset of a refusal)
local function win_counts(k, w)
  local f = {}
  for i = w.lo, w.cur do f[#f + 1] = bucket_field(i) end
  local v = redis.call('HMGET', k, unpack(f))
  local out = {}
  for i = 1, #f do out[i] = tonumber(v[i]) or 0 end
  return out
end

-- counts \`by\` places in the current bucket (more than one: a process's lease, rate-leases.ts)
local function win_add(k, w, by)
  redis.call('HINCRBY', k, bucket_field(w.cur), by)
  redis.call('HSET', k, 'rl', string.format('%.0f', w.lo), 'rn', w.n + by)
end

-- gives back \`c\` places counted in bucket \`b\` (nil: nothing): a lease's unused ones (rate-leases.ts),
-- a refused request's (adjust.lua.ts); once the bucket has left the window, nothing; never below zero
local function win_return(k, b, c)
  if not b or not c or c <= 0 then return 0 end
  local lo = tonumber(redis.call('HGET', k, 'rl'))
  if lo == nil or b < lo then return 0 end
  local f = bucket_field(b)
  local back = math.min(tonumber(redis.call('HGET', k, f)) or 0, c)
  if back <= 0 then return 0 end
  redis.call('HINCRBY', k, f, -back)
  if redis.call('HINCRBY', k, 'rn', -back) < 0 then redis.call('HSET', k, 'rn', 0) end
  return back
end

-- a number from ARGV[i], nil when absent or ''
local function argn(i) return tonumber(ARGV[i] or '') end

-- places a request may take: what it asked for (ARGV index i, '' or absent = 1), at most what is left
local function win_grant(i, left)
  local want = argn(i) or 1
  return math.max(1, math.min(want, left))
end

-- ARGV[1] is a clock for tests (µs); empty means the Redis server's, so skewed gateways agree
local function clock()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`;
