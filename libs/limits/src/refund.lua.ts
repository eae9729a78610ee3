/**
 * Gives back what check.lua.ts consumed when the per-IP net (another slot, so another script) refused
 * the same request: one emission interval of each rpm bucket and one daily request.
 *
 * KEYS[1] the key's hash, KEYS[2] the workspace's hash (hash tag {w:<workspaceId>})
 * ARGV[1] the UTC day number of the check (a new day's count is left alone)
 * ARGV[2..3] key: rpm emission interval µs ('' = no rpm cap), daily requests counted ('1'/'0')
 * ARGV[4..5] the same for the workspace
 */
export const REFUND_LUA = `
for i = 1, 2 do
  local a = 1 + (i - 1) * 2
  if ARGV[a + 1] ~= '' then
    local tat = tonumber(redis.call('HGET', KEYS[i], 'tat'))
    if tat then redis.call('HSET', KEYS[i], 'tat', string.format('%.0f', tat - tonumber(ARGV[a + 1]))) end
  end
  if ARGV[a + 2] == '1' and tonumber(redis.call('HGET', KEYS[i], 'd')) == tonumber(ARGV[1]) then
    redis.call('HINCRBY', KEYS[i], 'dr', -1)
  end
end
return 1
`;
