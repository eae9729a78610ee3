/**
 * Every cap of a key and of its workspace, checked and applied in one atomic step (one EVALSHA).
 * All-or-nothing: nothing is consumed unless every cap passes. Time is the Redis server's, so gateway
 * processes with skewed clocks agree. Same rules as gcra.ts, token-window.ts and utc-day.ts.
 *
 * KEYS (one hash each, both under the workspace's hash tag {w:<workspaceId>} so they share a slot):
 *   KEYS[1]  the key's hash        fields: tat (GCRA, µs), tm/tc/tp (token buckets: minute, current,
 *   KEYS[2]  the workspace's hash          previous), d/dr/ds (UTC day, requests, spend in nanos)
 * ARGV, six per scope, key first (ARGV[1..6]) then workspace (ARGV[7..12]); '' means no cap:
 *   +1 rpm emission interval µs   +2 rpm burst period µs   +3 tpm cap   +4 daily requests cap
 *   +5 daily spend cap (nanos, integer string)             +6 TTL of the hash in ms (when written)
 * Returns {now_us, refused_bits, then per scope (key, workspace): tat_us, tokens_prev, tokens_cur,
 *   day_requests, day_spend} where refused_bits: 1/2 rpm, 4/8 tpm, 16/32 daily requests,
 *   64/128 daily spend (key/workspace). State is as read before this request.
 */
export const CHECK_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local MIN = 60000000
local minute = math.floor(now / MIN)
local share = (MIN - (now - minute * MIN)) / MIN
local day = math.floor(now / 86400000000)

-- spend is compared as non-negative integer strings: exact past 2^53 nanos
local function ge(a, b)
  if #a ~= #b then return #a > #b end
  return a >= b
end

local refused = 0
local st = {}
for i = 1, 2 do
  local a = (i - 1) * 6
  local iv, tpm, dreq, dspend = ARGV[a + 1], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local s = { tat = 0, prev = 0, cur = 0, dr = 0, ds = '0', today = false }
  if iv ~= '' or tpm ~= '' or dreq ~= '' or dspend ~= '' then
    local h = redis.call('HMGET', KEYS[i], 'tat', 'tm', 'tc', 'tp', 'd', 'dr', 'ds')
    s.tat = tonumber(h[1]) or 0
    local tm = tonumber(h[2])
    if tm == minute then
      s.cur = tonumber(h[3]) or 0
      s.prev = tonumber(h[4]) or 0
    elseif tm == minute - 1 then
      s.prev = tonumber(h[3]) or 0
    end
    if tonumber(h[5]) == day then
      s.today = true
      s.dr = tonumber(h[6]) or 0
      s.ds = h[7] or '0'
    end
  end
  if iv ~= '' then
    s.newtat = math.max(s.tat, now) + tonumber(iv)
    if s.newtat - tonumber(ARGV[a + 2]) > now then refused = refused + i end
  end
  if tpm ~= '' and s.prev * share + s.cur >= tonumber(tpm) then refused = refused + 4 * i end
  if dreq ~= '' and s.dr >= tonumber(dreq) then refused = refused + 16 * i end
  if dspend ~= '' and ge(s.ds, dspend) then refused = refused + 64 * i end
  st[i] = s
end

if refused == 0 then
  for i = 1, 2 do
    local a = (i - 1) * 6
    local s = st[i]
    local wrote = false
    if s.newtat then
      redis.call('HSET', KEYS[i], 'tat', string.format('%.0f', s.newtat))
      wrote = true
    end
    if ARGV[a + 4] ~= '' then
      if s.today then
        redis.call('HINCRBY', KEYS[i], 'dr', 1)
      else
        redis.call('HSET', KEYS[i], 'd', day, 'dr', 1, 'ds', '0')
      end
      wrote = true
    end
    if wrote then redis.call('PEXPIRE', KEYS[i], ARGV[a + 6]) end
  end
end

return { now, refused,
  st[1].tat, st[1].prev, st[1].cur, st[1].dr, st[1].ds,
  st[2].tat, st[2].prev, st[2].cur, st[2].dr, st[2].ds }
`;
