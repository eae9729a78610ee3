import { WINDOW_LUA } from './window.lua';

/**
 * The per-IP safety net: one sliding window per client address (or IPv6 /64), checked and counted
 * atomically. Its own command: the address's hash tag puts it in another Redis Cluster slot than the
 * key's counters, so it is sent next to the check script, not inside it.
 *
 * KEYS[1] the address's hash (hash tag {ip:<address>})
 * ARGV[1] clock µs ('' = Redis TIME)   ARGV[2] bucket width µs   ARGV[3] limit   ARGV[4] TTL ms
 * ARGV[5] places wanted ('' or absent = 1; a lease, rate-leases.ts), granted up to what is left
 * ARGV[6], ARGV[7] (optional) bucket and count of the ended lease's unused places, given back first
 * Returns {now_us, refused (0/1), requests counted before this one, oldest bucket counted,
 *   bucket counts (only when refused), places granted}
 */
export const IP_LUA = `${WINDOW_LUA}
local now = clock()
win_return(KEYS[1], argn(6), argn(7))
local w = win_read(KEYS[1], tonumber(ARGV[2]), now)
if w.n >= tonumber(ARGV[3]) then return { now, 1, w.n, w.lo, win_counts(KEYS[1], w), 0 } end
local granted = win_grant(5, tonumber(ARGV[3]) - w.n)
win_add(KEYS[1], w, granted)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return { now, 0, w.n, w.lo, {}, granted }
`;
