// The reply rules, provider-neutral: same conversation and knobs -> the same plan, byte for byte.
// Each wire format only renders a Plan (see README.md "Content rules").
import { stripDirectives } from './knobs';
import { sampleFromSchema } from './schema-sample';
import type { Conversation, DemoKnobs, Plan, PlannedCall, PlannedChoice, TextChoice } from './types';

export const DEFAULT_TOKENS = 12;
const MAX_TOKENS_KNOB = 100_000;
const MAX_CHOICES = 16;
/** characters per streamed fragment of JSON text and tool arguments (one fragment = one output token) */
const FRAGMENT_CHARS = 4;
const ECHO_WORDS = 5;
const TOOL_RESULT_ECHO_CHARS = 40;

/** Fixed filler: easy to spot in a test failure, and free of punctuation so stop sequences are simple. */
export const FILLER = [
  'alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima',
  'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey',
  'xray', 'yankee', 'zulu',
]; // prettier-ignore

/** The text of the last user turn that is not only a tool result: where directives and the echo come from. */
export function lastUserText(conv: Conversation): string {
  for (let i = conv.messages.length - 1; i >= 0; i--) {
    const m = conv.messages[i];
    if (m.role === 'user' && (m.toolResult === undefined || m.userText !== '')) return m.userText;
  }
  return '';
}

/** ceil(characters of all text / 4) + 4 per message + 85 per image (tool definitions count as text). */
export function countPromptTokens(conv: Conversation): number {
  let chars = conv.extraPromptChars;
  let images = 0;
  for (const m of conv.messages) {
    chars += m.text.length;
    images += m.images;
  }
  return Math.max(1, Math.ceil(chars / 4) + 4 * conv.messages.length + 85 * images);
}

export function planReply(conv: Conversation, knobs: DemoKnobs): Plan {
  const images = conv.messages.reduce((sum, m) => sum + m.images, 0);
  const n = Math.min(Math.max(1, Math.floor(conv.n) || 1), MAX_CHOICES);
  const choices: PlannedChoice[] = [];
  for (let i = 0; i < n; i++) choices.push(planChoice(conv, knobs, i, images));
  const completionTokens = choices.reduce((sum, c) => sum + choiceTokens(c), 0);
  return { choices, promptTokens: knobs.prompt_tokens ?? countPromptTokens(conv), completionTokens, images };
}

export function choiceTokens(c: PlannedChoice): number {
  return c.kind === 'text' ? c.pieces.length : c.calls.reduce((sum, call) => sum + call.fragments.length + 1, 0);
}

function planChoice(conv: Conversation, knobs: DemoKnobs, index: number, images: number): PlannedChoice {
  const last = conv.messages[conv.messages.length - 1];
  const userText = lastUserText(conv);
  const toolTurn = last !== undefined && last.role === 'user' && last.toolResult === undefined;
  if (toolTurn && conv.tools.length > 0 && conv.toolChoice !== 'none') {
    return { kind: 'tools', calls: planCalls(conv, knobs, userText), finish: 'tool_calls' };
  }

  let pieces: string[];
  if (conv.json) {
    pieces = fragments(jsonReply(conv.json.schema, userText));
  } else {
    const tokens = Math.min(Math.floor(knobs.tokens ?? DEFAULT_TOKENS), MAX_TOKENS_KNOB);
    const lead =
      last?.toolResult !== undefined
        ? `Tool result received: ${collapse(last.toolResult).slice(0, TOOL_RESULT_ECHO_CHARS)}`
        : echoLead(userText);
    const words = lead.split(' ').filter(Boolean);
    if (images > 0) words.push('I', 'see', String(images), 'image(s).');
    for (let f = index; words.length < tokens; f++) words.push(FILLER[f % FILLER.length]);
    pieces = words.slice(0, Math.max(0, tokens)).map((w, i) => (i === 0 ? w : ` ${w}`));
  }
  return finishText(pieces, conv);
}

function echoLead(userText: string): string {
  const words = stripDirectives(userText).split(' ').filter(Boolean).slice(0, ECHO_WORDS);
  return words.length > 0 ? `Demo reply to "${words.join(' ')}":` : 'Demo reply:';
}

function jsonReply(schema: unknown, userText: string): string {
  if (schema !== undefined) return JSON.stringify(sampleFromSchema(schema));
  const echo = stripDirectives(userText).split(' ').filter(Boolean).slice(0, ECHO_WORDS).join(' ');
  return JSON.stringify({ demo: true, echo });
}

/** Applies stop sequences (cut before the first match), then the max-tokens budget. */
function finishText(all: string[], conv: Conversation): TextChoice {
  let pieces = all;
  let finish: TextChoice['finish'] = 'stop';
  let stopSequence: string | null = null;
  const full = all.join('');
  let cut = -1;
  for (const stop of conv.stop) {
    const at = stop ? full.indexOf(stop) : -1;
    if (at >= 0 && (cut < 0 || at < cut)) {
      cut = at;
      stopSequence = stop;
    }
  }
  if (cut >= 0) {
    pieces = [];
    let offset = 0;
    for (const p of all) {
      if (offset >= cut) break;
      pieces.push(offset + p.length <= cut ? p : p.slice(0, cut - offset));
      offset += p.length;
    }
    finish = 'stop_sequence';
  }
  if (conv.maxTokens !== undefined && pieces.length > conv.maxTokens) {
    pieces = pieces.slice(0, Math.max(0, conv.maxTokens));
    finish = 'length';
    stopSequence = null;
  }
  return { kind: 'text', pieces, text: pieces.join(''), finish, stopSequence };
}

function planCalls(conv: Conversation, knobs: DemoKnobs, userText: string): PlannedCall[] {
  const byName = new Map(conv.tools.map((t) => [t.name, t]));
  if (conv.toolChoice === 'named' && conv.toolNames?.[0] !== undefined) {
    const name = conv.toolNames[0];
    return [call(name, byName.get(name)?.schema)];
  }
  const allowed = conv.toolNames?.length ? conv.tools.filter((t) => conv.toolNames?.includes(t.name)) : [];
  const candidates = allowed.length > 0 ? allowed : conv.tools;
  const parallel =
    conv.parallelToolCalls && candidates.length > 1 && (knobs.parallel === true || /\bparallel\b/i.test(userText));
  return (parallel ? candidates : candidates.slice(0, 1)).map((t) => call(t.name, t.schema));
}

function call(name: string, schema: unknown): PlannedCall {
  const value = typeof schema === 'object' && schema !== null ? sampleFromSchema(schema) : {};
  const args = JSON.stringify(typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {});
  return { name, args, fragments: fragments(args) };
}

export function fragments(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += FRAGMENT_CHARS) out.push(text.slice(i, i + FRAGMENT_CHARS));
  return out;
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
