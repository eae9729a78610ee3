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
 * Patterns an agent may grant: each must be covered by the agent's own list, that is, every name the
 * pattern can match must match one of the agent's patterns. A wildcard is covered only by a wildcard
 * (`anthropic/*` covers `anthropic/claude-*`, `g*` does not cover `*g*`). A plain name of a known model
 * (`namesOf` gives all of that model's names) is covered when the agent's list admits the model by any
 * of them: `anthropic/*` covers `claude-haiku-4-5`.
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

/**
 * Whether every name `narrow` can match also matches `broad`. Matching broad against narrow's own text is
 * exact: broad's literal characters never equal narrow's `*`, so each `*` of narrow (any run of
 * characters) has to fall inside a `*` of broad. (Were some name matched by narrow and not by broad,
 * narrow with its stars replaced by long runs of a character broad lacks would be one.)
 */
function covers(broad: string, narrow: string): boolean {
  if (broad === narrow) return true;
  const c = compile(broad);
  return typeof c !== 'string' && c.test(narrow);
}
