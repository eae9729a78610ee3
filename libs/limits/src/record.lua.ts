/**
 * After a request: its tokens into the token buckets, its spend into the day's spend, for the key and
 * its workspace, in one atomic step. Same hashes and fields as check.lua.ts.
 *
 * KEYS[1] the key's hash, KEYS[2] the workspace's hash (hash tag {w:<workspaceId>})
 * ARGV[1] tokens (integer)   ARGV[2] spend (nanos, integer string)
 * ARGV[3..5] key: add tokens ('1'/'0'), add spend ('1'/'0'), TTL of the hash in ms
 * ARGV[6..8] the same for the workspace
 */
export const RECORD_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local minute = math.floor(now / 60000000)
local day = math.floor(now / 86400000000)

for i = 1, 2 do
  local a = 2 + (i - 1) * 3
  local wrote = false
  if ARGV[a + 1] == '1' then
    local h = redis.call('HMGET', KEYS[i], 'tm', 'tc')
    local tm = tonumber(h[1])
    if tm == minute then
      redis.call('HINCRBY', KEYS[i], 'tc', ARGV[1])
    elseif tm == minute - 1 then
      redis.call('HSET', KEYS[i], 'tm', minute, 'tp', h[2] or '0', 'tc', ARGV[1])
    else
      redis.call('HSET', KEYS[i], 'tm', minute, 'tp', '0', 'tc', ARGV[1])
    end
    wrote = true
  end
  if ARGV[a + 2] == '1' then
    if tonumber(redis.call('HGET', KEYS[i], 'd')) == day then
      redis.call('HINCRBY', KEYS[i], 'ds', ARGV[2])
    else
      redis.call('HSET', KEYS[i], 'd', day, 'dr', '0', 'ds', ARGV[2])
    end
    wrote = true
  end
  if wrote then redis.call('PEXPIRE', KEYS[i], ARGV[a + 3]) end
end
return 1
`;
