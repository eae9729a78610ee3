// Behaviour knobs: parsed from a `/_k/<name=value,...>/` path prefix and from a `[[demo: ...]]`
// directive in the last user message, merged as defaults < prefix < directive.
import type { DemoKnobs } from './types';

const NUMERIC = [
  'latency_ms',
  'ttft_ms',
  'tps',
  'tokens',
  'status',
  'fail_count',
  'drop_after',
  'error_after',
  'end_after',
  'prompt_tokens',
] as const;
const BOOLEAN = ['no_usage', 'hang', 'malformed', 'parallel', 'leaky_error'] as const;
type NumericKnob = (typeof NUMERIC)[number];
type BooleanKnob = (typeof BOOLEAN)[number];

const DIRECTIVE = /\[\[demo:([^\]]*)\]\]/gi;
const PREFIX = /^\/_k\/([^/]*)(?=\/|$)/;

function isNumeric(name: string): name is NumericKnob {
  return (NUMERIC as readonly string[]).includes(name);
}
function isBoolean(name: string): name is BooleanKnob {
  return (BOOLEAN as readonly string[]).includes(name);
}

/** `a=1, b, c=true` -> knobs; unknown names and unreadable values are ignored. */
export function parseKnobList(list: string): DemoKnobs {
  const knobs: DemoKnobs = {};
  for (const item of list.split(',')) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : item.slice(eq + 1).trim();
    if (isBoolean(name)) {
      knobs[name] = value === undefined || !/^(0|false|no|off)$/i.test(value);
    } else if (isNumeric(name) && value !== undefined) {
      const n = Number(value);
      if (value !== '' && Number.isFinite(n) && n >= 0) knobs[name] = n;
    }
  }
  return knobs;
}

/** Splits leading `/_k/.../` segments off a path (several may be stacked; later ones win). */
export function splitKnobPrefix(path: string): { path: string; knobs: DemoKnobs; raw: string } {
  let rest = path;
  let raw = '';
  let knobs: DemoKnobs = {};
  for (let m = PREFIX.exec(rest); m; m = PREFIX.exec(rest)) {
    const list = safeDecode(m[1]);
    raw += (raw ? ',' : '') + list;
    knobs = { ...knobs, ...parseKnobList(list) };
    rest = rest.slice(m[0].length) || '/';
  }
  return { path: rest, knobs, raw };
}

/** Knobs of every `[[demo: ...]]` directive in a text, and the raw directive string (the fail-count key). */
export function readDirective(text: string): { knobs: DemoKnobs; raw: string } {
  let knobs: DemoKnobs = {};
  const raws: string[] = [];
  for (const m of text.matchAll(DIRECTIVE)) {
    raws.push(m[1].trim());
    knobs = { ...knobs, ...parseKnobList(m[1]) };
  }
  return { knobs, raw: raws.join(';') };
}

/** The text without its directives, whitespace collapsed: what the reply may echo. */
export function stripDirectives(text: string): string {
  return text.replace(DIRECTIVE, ' ').replace(/\s+/g, ' ').trim();
}

export function mergeKnobs(...layers: DemoKnobs[]): DemoKnobs {
  return Object.assign({}, ...layers) as DemoKnobs;
}

/**
 * Remembers how many requests of each knob string failed, so `status=503, fail_count=1` fails once
 * and then succeeds (the retry and fallback tests depend on it).
 */
export class FailCounters {
  private readonly counts = new Map<string, number>();

  /** true when this request should answer with knobs.status */
  shouldFail(key: string, knobs: DemoKnobs): boolean {
    if (!knobs.status) return false;
    if (knobs.fail_count === undefined) return true;
    const failed = this.counts.get(key) ?? 0;
    if (failed >= knobs.fail_count) return false;
    this.counts.set(key, failed + 1);
    return true;
  }

  clear(): void {
    this.counts.clear();
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
