// Model allowlists: lists of patterns at agent, workspace and key level. The effective set is the
// intersection of the lists that are set; an empty or absent list means no restriction. A pattern is a
// model name or alias (`gpt-4o-mini`, `anthropic/claude-sonnet-4-6`) or a wildcard (`anthropic/*`, `gpt-4o*`).

export type Allowlist = string[] | null | undefined;

const PATTERN = /^[A-Za-z0-9*][A-Za-z0-9._:/*-]{0,127}$/;

export function isValidPattern(p: string): boolean {
  return PATTERN.test(p);
}

const compiled = new Map<string, RegExp | string>();

function compile(pattern: string): RegExp | string {
  let c = compiled.get(pattern);
  if (c === undefined) {
    c = pattern.includes('*')
      ? new RegExp('^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$')
      : pattern;
    if (compiled.size < 10_000) compiled.set(pattern, c);
  }
  return c;
}

/** Whether one list admits a model known by these names (id, aliases, owned_by/id). */
export function listAllows(list: Allowlist, names: readonly string[]): boolean {
  if (!list || list.length === 0) return true;
  for (const p of list) {
    const c = compile(p);
    for (const n of names) if (typeof c === 'string' ? c === n : c.test(n)) return true;
  }
  return false;
}

/** Every list that is set must admit the model. */
export function allowedByAll(lists: readonly Allowlist[], names: readonly string[]): boolean {
  for (const l of lists) if (!listAllows(l, names)) return false;
  return true;
}

/**
 * Patterns an agent may grant: each must be covered by the agent's own list. A wildcard is covered only
 * by an equal or broader wildcard (`anthropic/*` covers `anthropic/claude-*`), judged on its literal text.
 * A plain name of a known model (`namesOf` gives all of that model's names) is covered when the agent's
 * list admits the model by any of them: `anthropic/*` covers `claude-haiku-4-5`.
 */
export function patternsOutside(
  agentList: Allowlist,
  requested: readonly string[],
  namesOf?: (name: string) => readonly string[] | undefined,
): string[] {
  if (!agentList || agentList.length === 0) return [];
  return requested.filter((r) => !agentList.some((a) => covers(a, r)) && !admitsModel(agentList, r, namesOf));
}

function admitsModel(
  agentList: string[],
  name: string,
  namesOf?: (name: string) => readonly string[] | undefined,
): boolean {
  if (name.includes('*') || !namesOf) return false;
  const names = namesOf(name);
  return names !== undefined && listAllows(agentList, names);
}

function covers(broad: string, narrow: string): boolean {
  if (broad === narrow) return true;
  const c = compile(broad);
  if (typeof c === 'string') return false;
  // a wildcard covers another pattern when every name that pattern can match also matches it;
  // for prefix wildcards (the common case) testing the narrow pattern's literal text is exact
  return c.test(narrow.replace(/\*/g, '')) && (!narrow.includes('*') || broad.endsWith('*'));
}
