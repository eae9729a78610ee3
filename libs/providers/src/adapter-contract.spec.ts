// One contract for every adapter in the registry: the same finish reasons, usage, retryability and
// malformed-body handling, checked on each kind's recorded wire samples.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { PROVIDER_ADAPTERS } from './registry';
import type { ChatCompletionChunk, ProviderKind, SseEvent } from './types';
import { UpstreamMalformedError } from './types';
import { UpstreamStreamError } from './errors';

const FIX = join(__dirname, '../../../test/fixtures');
const json = (kind: string, f: string) => JSON.parse(readFileSync(join(FIX, kind, f), 'utf8')) as unknown;
const sse = (kind: string, f: string): SseEvent[] => {
  const out: SseEvent[] = [];
  const p = createParser({ onEvent: (e) => out.push({ event: e.event, data: e.data }) });
  p.feed(readFileSync(join(FIX, kind, f), 'utf8'));
  return out;
};

/** A wire sample as sent by an upstream that reports no usage (the demo's no_usage, some self-hosted servers). */
function withoutUsage(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutUsage);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => k !== 'usage' && k !== 'usageMetadata')
      .map(([k, x]) => [k, withoutUsage(x)]),
  );
}
const sseWithoutUsage = (kind: string, f: string): SseEvent[] =>
  sse(kind, f).flatMap((e) => {
    if (!e.data.startsWith('{')) return [e];
    const data = withoutUsage(JSON.parse(e.data)) as { choices?: unknown[] };
    // OpenAI's usage chunk (`choices: []`) is not sent at all
    return Array.isArray(data.choices) && data.choices.length === 0 ? [] : [{ ...e, data: JSON.stringify(data) }];
  });

const SAMPLES: Record<
  ProviderKind,
  { text: string; length: string; tools: string; streamText: string; streamTools: string; errorBody: string }
> = {
  openai: {
    text: 'chat-text.json',
    length: 'chat-length.json',
    tools: 'chat-tools.json',
    streamText: 'stream-text-usage.sse',
    streamTools: 'stream-tool-calls.sse',
    errorBody: 'error-context-length.json',
  },
  anthropic: {
    text: 'message-text.json',
    length: 'message-max-tokens.json',
    tools: 'message-tool-use.json',
    streamText: 'stream-text.sse',
    streamTools: 'stream-tool-use.sse',
    errorBody: 'error-invalid-request.json',
  },
  gemini: {
    text: 'generate-text.json',
    length: 'generate-max-tokens.json',
    tools: 'generate-function-call.json',
    streamText: 'stream-text.sse',
    streamTools: 'stream-function-call.sse',
    errorBody: 'error-400-invalid-argument.json',
  },
};

const ctx = { now: () => 1_700_000_000_000, newId: (p: string) => `${p}-contract` };
const meta = { model: 'alias-sent-by-client' };

describe.each(Object.keys(PROVIDER_ADAPTERS) as ProviderKind[])('adapter contract: %s', (kind) => {
  const adapter = PROVIDER_ADAPTERS[kind];
  const s = SAMPLES[kind];

  it('is registered under its own kind', () => {
    expect(adapter.kind).toBe(kind);
  });

  it('maps a finished answer to finish_reason stop with usage and the client alias', () => {
    const c = adapter.chat.fromUpstream(json(kind, s.text), ctx, meta);
    expect(c.object).toBe('chat.completion');
    expect(c.model).toBe('alias-sent-by-client');
    expect(c.choices[0].finish_reason).toBe('stop');
    expect(typeof c.choices[0].message.content).toBe('string');
    expect(c.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(c.usage!.completion_tokens).toBeGreaterThan(0);
    expect(c.usage!.total_tokens).toBe(c.usage!.prompt_tokens + c.usage!.completion_tokens);
  });

  it('maps a truncated answer to length and tool calls to tool_calls', () => {
    expect(adapter.chat.fromUpstream(json(kind, s.length), ctx, meta).choices[0].finish_reason).toBe('length');
    const t = adapter.chat.fromUpstream(json(kind, s.tools), ctx, meta);
    expect(t.choices[0].finish_reason).toBe('tool_calls');
    const call = t.choices[0].message.tool_calls![0];
    expect(call.type).toBe('function');
    expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();
  });

  it('streams in spec order: role first, finish_reason, then one usage chunk', () => {
    const m = adapter.chat.streamMapper(ctx, meta);
    const chunks: ChatCompletionChunk[] = [...sse(kind, s.streamText).flatMap((e) => m.push(e)), ...m.end()];
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const finishAt = chunks.findIndex((c) => c.choices.some((ch) => ch.finish_reason !== null));
    const usageAt = chunks.findIndex((c) => c.usage && c.choices.length === 0);
    expect(finishAt).toBeGreaterThan(0);
    expect(usageAt).toBe(chunks.length - 1);
    expect(usageAt).toBeGreaterThan(finishAt);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.model === 'alias-sent-by-client')).toBe(true);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
  });

  it('reports no usage (rather than zeros) when the upstream sent none, so the gateway counts the tokens', () => {
    const c = adapter.chat.fromUpstream(withoutUsage(json(kind, s.text)), ctx, meta);
    expect(c.choices[0].finish_reason).toBe('stop');
    expect(c.usage).toBeUndefined();
    const m = adapter.chat.streamMapper(ctx, meta);
    const chunks = [...sseWithoutUsage(kind, s.streamText).flatMap((e) => m.push(e)), ...m.end()];
    expect(chunks.some((ch) => ch.choices.some((x) => x.finish_reason === 'stop'))).toBe(true);
    expect(chunks.filter((ch) => ch.usage != null)).toEqual([]);
  });

  it('calls a stream that ends cleanly before its finish an upstream stream error (never a finished answer)', () => {
    const events = sse(kind, s.streamText);
    const probe = adapter.chat.streamMapper(ctx, meta);
    const finishAt = events.findIndex((e) => probe.push(e).some((c) => c.choices.some((x) => x.finish_reason)));
    expect(finishAt).toBeGreaterThan(0);
    const cut = adapter.chat.streamMapper(ctx, meta);
    events.slice(0, finishAt).forEach((e) => cut.push(e));
    expect(() => cut.end()).toThrow(UpstreamStreamError);
  });

  it('streams tool calls as deltas with an index, the first carrying id and name', () => {
    const m = adapter.chat.streamMapper(ctx, meta);
    const deltas = [...sse(kind, s.streamTools).flatMap((e) => m.push(e)), ...m.end()].flatMap(
      (c) => c.choices[0]?.delta.tool_calls ?? [],
    );
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas[0].index).toBe(0);
    expect(deltas[0].id).toBeTruthy();
    expect(deltas[0].function?.name).toBeTruthy();
    const args = deltas
      .filter((d) => d.index === 0)
      .map((d) => d.function?.arguments ?? '')
      .join('');
    expect(() => JSON.parse(args) as unknown).not.toThrow();
  });

  it('says which upstream errors another route may fix', () => {
    expect(adapter.chat.mapError(429, {}).retryable).toBe(true);
    expect(adapter.chat.mapError(500, {}).retryable).toBe(true);
    expect(adapter.chat.mapError(503, 'Service Unavailable').retryable).toBe(true);
    const bad = adapter.chat.mapError(400, json(kind, s.errorBody));
    expect(bad).toMatchObject({ retryable: false, code: 'bad_request' });
    expect(bad.message.length).toBeGreaterThan(0);
    const creds = adapter.chat.mapError(401, {
      error: { message: 'invalid key sk-live-abcdefghijklmnop at https://internal.example.com' },
    });
    expect(creds.message).not.toMatch(/sk-live|internal\.example|https?:/);
  });

  it('refuses malformed answers with UpstreamMalformedError', () => {
    for (const junk of ['<html>502 Bad Gateway</html>', null, { hello: 'world' }, 42]) {
      expect(() => adapter.chat.fromUpstream(junk, ctx, meta)).toThrow(UpstreamMalformedError);
    }
  });
});
