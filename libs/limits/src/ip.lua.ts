/**
 * The per-IP safety net: one GCRA bucket per client IP (same arithmetic as gcra.ts), checked and
 * consumed atomically with the Redis server's time.
 *
 * KEYS[1] the IP's bucket, a string holding its TAT in µs (hash tag {ip:<address>})
 * ARGV[1] emission interval µs   ARGV[2] burst period µs
 * Returns {now_us, refused (0/1), tat_us as read before this request}
 */
export const IP_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
local newtat = math.max(tat, now) + tonumber(ARGV[1])
if newtat - tonumber(ARGV[2]) > now then return { now, 1, tat } end
redis.call('SET', KEYS[1], string.format('%.0f', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1000)
return { now, 0, tat }
`;
