import { WINDOW_LUA } from './window.lua';

/**
 * Gives back the places of a lease (rate-leases.ts) that went unused, in the bucket they were counted
 * in (win_return of window.lua.ts), for a window no check will hand them back to soon: a key that went
 * quiet. Once that bucket has left the window there is nothing to give back. Never below zero.
 *
 * KEYS[1] a window's hash (a key's or a workspace's, or the per-IP net's)
 * ARGV[1] the bucket   ARGV[2] places to give back
 * Returns the places given back.
 */
export const RETURN_LUA = `${WINDOW_LUA}
return win_return(KEYS[1], argn(1), argn(2))
`;
