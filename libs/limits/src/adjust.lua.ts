import { WINDOW_LUA } from './window.lua';

/**
 * Corrects what check.lua.ts counted, for the key and its workspace in one atomic step:
 * - after requests: their metered tokens and spend minus what their checks reserved (coalesced per key
 *   by LimitsService, so one signed delta can stand for many requests of the same minute and day);
 * - for a request refused after its check (the per-IP net, funds): the reservation back, and, when the
 *   per-IP net refused it, its rpm place and daily request too.
 * A delta lands in the bucket of the minute (the day) the check reserved in; once that bucket left the
 * window there is nothing to correct. Counters never go below zero.
 *
 * KEYS[1] the key's hash, KEYS[2] the workspace's hash (hash tag {w:<workspaceId>})
 * ARGV[1] clock µs ('' = Redis TIME)   ARGV[2] minute of the reservation ('' = the current one)
 * ARGV[3] UTC day of the reservation ('' = today)   ARGV[4] tokens delta   ARGV[5] spend delta (nanos)
 * ARGV[6] rpm bucket to give one place back in ('' = none)
 * then five per scope, key (ARGV[7..11]) then workspace (ARGV[12..16]):
 *   +1 tokens ('1'/'0')  +2 spend ('1'/'0')  +3 rpm place back ('1'/'0')  +4 daily request back ('1'/'0')
 *   +5 TTL of the hash in ms (when written)
 */
export const ADJUST_LUA = `${WINDOW_LUA}
local now = clock()
local minute = ARGV[2] ~= '' and tonumber(ARGV[2]) or math.floor(now / 60000000)
local day = ARGV[3] ~= '' and tonumber(ARGV[3]) or math.floor(now / 86400000000)
local tokens, spend = ARGV[4], ARGV[5]
local positive = function(v) return v ~= '0' and string.sub(v, 1, 1) ~= '-' end

local function add_floor0(k, f, by)
  if redis.call('HINCRBY', k, f, by) < 0 then redis.call('HSET', k, f, 0) end
end

for i = 1, 2 do
  local a = 6 + (i - 1) * 5
  local k = KEYS[i]
  local wrote = false
  if ARGV[a + 1] == '1' and tokens ~= '0' then
    local h = redis.call('HMGET', k, 'tm', 'tc')
    local tm = tonumber(h[1])
    if tm == minute then
      add_floor0(k, 'tc', tokens)
      wrote = true
    elseif tm == minute + 1 then
      add_floor0(k, 'tp', tokens)
      wrote = true
    elseif (tm == nil or tm < minute) and positive(tokens) then
      -- nothing was reserved in this minute (the check failed open): roll the buckets forward
      redis.call('HSET', k, 'tm', minute, 'tp', tm == minute - 1 and (h[2] or '0') or '0', 'tc', tokens)
      wrote = true
    end
  end
  if ARGV[a + 2] == '1' and spend ~= '0' then
    local d = tonumber(redis.call('HGET', k, 'd'))
    if d == day then
      add_floor0(k, 'ds', spend)
      wrote = true
    elseif (d == nil or d < day) and positive(spend) then
      redis.call('HSET', k, 'd', day, 'dr', 0, 'ds', spend)
      wrote = true
    end
  end
  if ARGV[a + 3] == '1' then win_return(k, argn(6), 1) end
  if ARGV[a + 4] == '1' and tonumber(redis.call('HGET', k, 'd')) == day then add_floor0(k, 'dr', -1) end
  if wrote then redis.call('PEXPIRE', k, ARGV[a + 5]) end
end
return 1
`;
