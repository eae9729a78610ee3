import { allowedByAll, isValidPattern, listAllows, patternsOutside } from './allowlist';

describe('allowlists', () => {
  const sonnet = ['claude-sonnet-4-6', 'anthropic/claude-sonnet-4-6', 'anthropic/claude-sonnet-4.6'];
  const mini = ['gpt-4o-mini', 'openai/gpt-4o-mini'];

  it('treats empty and absent lists as no restriction', () => {
    expect(listAllows(null, mini)).toBe(true);
    expect(listAllows(undefined, mini)).toBe(true);
    expect(listAllows([], mini)).toBe(true);
  });

  it('matches exact names, aliases and wildcards', () => {
    expect(listAllows(['gpt-4o-mini'], mini)).toBe(true);
    expect(listAllows(['openai/gpt-4o-mini'], mini)).toBe(true);
    expect(listAllows(['anthropic/*'], sonnet)).toBe(true);
    expect(listAllows(['anthropic/*'], mini)).toBe(false);
    expect(listAllows(['gpt-4o*'], mini)).toBe(true);
    expect(listAllows(['gpt-4o'], mini)).toBe(false);
    expect(listAllows(['gpt.4o-mini'], mini)).toBe(false); // dots are literal
  });

  it('intersects the lists that are set', () => {
    expect(allowedByAll([['anthropic/*', 'gpt-4o-mini'], null, ['gpt-4o-mini']], mini)).toBe(true);
    expect(allowedByAll([['anthropic/*'], null, ['gpt-4o-mini']], mini)).toBe(false);
    expect(allowedByAll([null, [], null], sonnet)).toBe(true);
  });

  it('finds patterns an agent may not grant', () => {
    expect(patternsOutside(null, ['anything'])).toEqual([]);
    expect(
      patternsOutside(
        ['anthropic/*', 'gpt-4o-mini'],
        ['anthropic/claude-haiku-4-5', 'anthropic/claude-*', 'gpt-4o-mini'],
      ),
    ).toEqual([]);
    expect(patternsOutside(['anthropic/*'], ['gpt-4o', '*', 'anthropic/*'])).toEqual(['gpt-4o', '*']);
    expect(patternsOutside(['gpt-4o-mini'], ['gpt-4o*'])).toEqual(['gpt-4o*']);
  });
  it('accepts a wildcard only when every name it can match is within a pattern of the agent', () => {
    // wider, or shifted: a name such as `qwen3-vl-embedding` matches `*g*` but not `g*`
    expect(patternsOutside(['g*'], ['*g*'])).toEqual(['*g*']);
    expect(patternsOutside(['anthropic/*'], ['*anthropic/*', '*/*', '*'])).toEqual(['*anthropic/*', '*/*', '*']);
    expect(patternsOutside(['a*b'], ['a*'])).toEqual(['a*']);
    expect(patternsOutside(['gpt-4o*'], ['gpt-4*'])).toEqual(['gpt-4*']);
    expect(patternsOutside(['*-mini', 'openai/*'], ['*mini'])).toEqual(['*mini']);
    // narrower ones pass, wherever their stars are
    expect(patternsOutside(['gpt-4o*'], ['gpt-4o*', 'gpt-4o-*', 'gpt-4o*-mini'])).toEqual([]);
    expect(patternsOutside(['gpt-4o-*'], ['gpt-4o-*x'])).toEqual([]);
    expect(patternsOutside(['g*'], ['g*a*', 'g'])).toEqual([]);
    expect(patternsOutside(['*-mini'], ['gpt-*-mini', 'o4-mini'])).toEqual([]);
    expect(patternsOutside(['*'], ['*', '*g*', 'anything'])).toEqual([]);
    // a dot in the agent's pattern is literal, not "any character"
    expect(patternsOutside(['gpt.4*'], ['gpt-4*'])).toEqual(['gpt-4*']);
  });

  it('lets an agent grant a known model by any of its names', () => {
    const haiku = ['claude-haiku-4-5', 'anthropic/claude-haiku-4.5', 'anthropic/claude-haiku-4-5'];
    const namesOf = (n: string) => (haiku.includes(n) ? haiku : undefined);
    expect(patternsOutside(['anthropic/*'], ['claude-haiku-4-5'], namesOf)).toEqual([]);
    expect(patternsOutside(['claude-haiku-4-5'], ['anthropic/claude-haiku-4.5'], namesOf)).toEqual([]);
    // unknown names and wildcards are still judged on their text
    expect(patternsOutside(['anthropic/*'], ['claude-unknown', 'claude-*'], namesOf)).toEqual([
      'claude-unknown',
      'claude-*',
    ]);
    expect(patternsOutside(['anthropic/*'], ['claude-haiku-4-5'])).toEqual(['claude-haiku-4-5']);
  });

  it('validates patterns', () => {
    expect(isValidPattern('anthropic/*')).toBe(true);
    expect(isValidPattern('gpt-4o-mini')).toBe(true);
    expect(isValidPattern('')).toBe(false);
    expect(isValidPattern('a b')).toBe(false);
    expect(isValidPattern('x'.repeat(200))).toBe(false);
  });
});
