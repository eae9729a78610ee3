import { WINDOW_LUA } from './window.lua';

/**
 * Every cap of a key and of its workspace, checked and applied in one atomic step (one EVALSHA).
 * All-or-nothing: nothing is consumed unless every cap passes. Same rules as sliding-window.ts,
 * token-window.ts and utc-day.ts.
 *
 * An admitted model request also reserves its worst case: its estimated tokens (input estimate + most
 * output) in the current minute's token bucket and its worst-case cost in the day's spend, so that
 * requests in flight see each other. adjust.lua.ts replaces the reservation with the metered usage.
 * A cap refuses once the window (reservations included) holds it, so it is overshot by at most one
 * request's reservation, never without bound.
 *
 * KEYS (one hash each, both under the workspace's hash tag {w:<workspaceId>} so they share a slot):
 *   KEYS[1]  the key's hash        fields: rl/rn/r<i> (rpm window, window.lua.ts), tm/tc/tp (token
 *   KEYS[2]  the workspace's hash          buckets: minute, current, previous), d/dr/ds (UTC day,
 *                                          requests, spend in nanos)
 * ARGV[1] clock µs ('' = Redis TIME)   ARGV[2] rpm bucket width µs
 * then seven per scope, key first (ARGV[3..9]) then workspace (ARGV[10..16]); '' means not checked:
 *   +1 rpm   +2 tpm cap   +3 daily requests cap (counted when set)   +4 daily spend cap (nanos)
 *   +5 tokens to reserve   +6 spend to reserve (nanos, integer string)   +7 TTL of the hash in ms
 * ARGV[17] rpm places wanted ('' or absent = 1): a lease (rate-leases.ts) counts several places at once
 *   in the current rpm bucket of each scope, as many as both have left, at most this many
 * ARGV[18], ARGV[19] (optional) bucket and count of the ended lease's unused places, given back to each
 *   rpm checked before its window is read
 * Returns {now_us, refused_bits, then per scope (key, workspace): {rpm requests counted, oldest rpm
 *   bucket, rpm bucket counts (only when the rpm refused), tokens_prev, tokens_cur, day_requests,
 *   day_spend}, rpm places granted} where refused_bits: 1/2 rpm, 4/8 tpm, 16/32 daily requests, 64/128
 *   daily spend (key/workspace). State is as read before this request.
 */
export const CHECK_LUA = `${WINDOW_LUA}
local now = clock()
local rpm_bucket = tonumber(ARGV[2])
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
  local a = 2 + (i - 1) * 7
  local rpm, tpm, dreq, dspend = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local s = { prev = 0, cur = 0, dr = 0, ds = '0', today = false }
  if tpm ~= '' or dreq ~= '' or dspend ~= '' then
    local h = redis.call('HMGET', KEYS[i], 'tm', 'tc', 'tp', 'd', 'dr', 'ds')
    local tm = tonumber(h[1])
    if tm == minute then
      s.cur = tonumber(h[2]) or 0
      s.prev = tonumber(h[3]) or 0
    elseif tm == minute - 1 then
      s.prev = tonumber(h[2]) or 0
    end
    if tonumber(h[4]) == day then
      s.today = true
      s.dr = tonumber(h[5]) or 0
      s.ds = h[6] or '0'
    end
  end
  if rpm ~= '' then
    win_return(KEYS[i], argn(18), argn(19))
    s.win = win_read(KEYS[i], rpm_bucket, now)
    if s.win.n >= tonumber(rpm) then refused = refused + i end
  end
  if tpm ~= '' and s.prev * share + s.cur >= tonumber(tpm) then refused = refused + 4 * i end
  if dreq ~= '' and s.dr >= tonumber(dreq) then refused = refused + 16 * i end
  if dspend ~= '' and ge(s.ds, dspend) then refused = refused + 64 * i end
  st[i] = s
end

local granted = 0
if refused == 0 then
  -- as many places as asked (ARGV[17]), at most what every rpm checked has left
  local left = math.huge
  for i = 1, 2 do
    if st[i].win then left = math.min(left, tonumber(ARGV[2 + (i - 1) * 7 + 1]) - st[i].win.n) end
  end
  granted = win_grant(17, left)
  for i = 1, 2 do
    local a = 2 + (i - 1) * 7
    local s = st[i]
    local k = KEYS[i]
    local wrote = false
    if s.win then
      win_add(k, s.win, granted)
      wrote = true
    end
    local tokens = tonumber(ARGV[a + 5])
    if ARGV[a + 2] ~= '' and tokens > 0 then
      redis.call('HSET', k, 'tm', minute, 'tp', s.prev, 'tc', s.cur + tokens)
      wrote = true
    end
    local spend = ARGV[a + 4] ~= '' and ARGV[a + 6] ~= '0'
    if ARGV[a + 3] ~= '' or spend then
      if not s.today then redis.call('HSET', k, 'd', day, 'dr', 0, 'ds', 0) end
      if ARGV[a + 3] ~= '' then redis.call('HINCRBY', k, 'dr', 1) end
      if spend then redis.call('HINCRBY', k, 'ds', ARGV[a + 6]) end
      wrote = true
    end
    if wrote then redis.call('PEXPIRE', k, ARGV[a + 7]) end
  end
end

local function scope_reply(i)
  local s = st[i]
  local w = s.win
  local counts = {}
  if w and math.floor(refused / i) % 2 == 1 then counts = win_counts(KEYS[i], w) end
  return { w and w.n or 0, w and w.lo or 0, counts, s.prev, s.cur, s.dr, s.ds }
end
return { now, refused, scope_reply(1), scope_reply(2), granted }
`;
