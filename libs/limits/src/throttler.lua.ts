/**
 * @nestjs/throttler's storage contract in Redis (see redis-throttler-storage.ts): a fixed window of
 * hits, and once over the limit a block for `blockDuration` during which hits are not counted.
 *
 * KEYS[1] the hit counter, KEYS[2] the block marker (holds the hit count that caused the block);
 *   both under one hash tag
 * ARGV[1] ttl ms   ARGV[2] limit   ARGV[3] block duration ms (0: no block, refuse until the window ends)
 * Returns {total_hits, ms_to_expire, blocked (0/1), ms_to_block_expire}
 */
export const THROTTLER_LUA = `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local block = tonumber(ARGV[3])
local blocked = redis.call('GET', KEYS[2])
if blocked then
  local left = redis.call('PTTL', KEYS[2])
  return { tonumber(blocked), left, 1, left }
end
if block <= 0 then
  local hits = tonumber(redis.call('GET', KEYS[1])) or 0
  if hits >= limit then
    local left = redis.call('PTTL', KEYS[1])
    return { hits + 1, left, 1, left }
  end
end
local hits = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  left = ttl
end
if block > 0 and hits > limit then
  redis.call('SET', KEYS[2], hits, 'PX', block)
  redis.call('DEL', KEYS[1])
  return { hits, block, 1, block }
end
return { hits, left, 0, 0 }
`;
