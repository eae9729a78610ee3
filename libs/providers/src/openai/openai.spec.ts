import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import type { ChatCompletionChunk, RouteTarget, SseEvent } from '../types';
import { UpstreamStreamError } from '../errors';
import { openaiAdapter } from './index';

const FIX = join(__dirname, '../../../../test/fixtures/openai');
const fixture = (name: string) => JSON.parse(readFileSync(join(FIX, name), 'utf8')) as unknown;
const ctx = { now: () => 1_700_000_000_000, newId: (p: string) => `${p}-test` };
const target: RouteTarget = {
  providerId: 'openai',
  kind: 'openai',
  baseUrl: 'https://api.example.test/v1',
  apiKey: 'sk-upstream',
  upstreamModel: 'gpt-4o-mini-2024-07-18',
  timeoutMs: 1000,
};

function sse(name: string): SseEvent[] {
  const events: SseEvent[] = [];
  const p = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  p.feed(readFileSync(join(FIX, name), 'utf8'));
  return events;
}

describe('openai adapter', () => {
  it('sends the upstream model, the provider key and asks for usage in streams', () => {
    const call = openaiAdapter.chat.toUpstream(
      {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.2,
        logit_bias: { '50256': -100 },
      },
      target,
      { stream: true },
    );
    expect(call.url).toBe('https://api.example.test/v1/chat/completions');
    expect(call.headers.authorization).toBe('Bearer sk-upstream');
    const body = call.body as Record<string, unknown>;
    expect(body.model).toBe('gpt-4o-mini-2024-07-18');
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.logit_bias).toEqual({ '50256': -100 }); // unknown fields pass through
  });

  it('applies quirks: dropped and renamed params, no stream_options, n unsupported', () => {
    const quirky = {
      ...target,
      quirks: {
        drop_params: ['seed'],
        rename_params: { max_completion_tokens: 'max_tokens' },
        no_stream_options: true,
        supports_n: false,
      },
    };
    const body = openaiAdapter.chat.toUpstream(
      { model: 'x', messages: [], seed: 7, max_completion_tokens: 100, stream_options: { include_usage: true } },
      quirky,
      { stream: true },
    ).body as Record<string, unknown>;
    expect(body.seed).toBeUndefined();
    expect(body.max_tokens).toBe(100);
    expect(body.max_completion_tokens).toBeUndefined();
    expect(body.stream_options).toBeUndefined();
    expect(() => openaiAdapter.chat.toUpstream({ model: 'x', messages: [], n: 2 }, quirky, { stream: false })).toThrow(
      /n greater than 1/,
    );
  });

  it('echoes the alias in responses and keeps tool calls and usage details', () => {
    const out = openaiAdapter.chat.fromUpstream(fixture('chat-tools.json'), ctx, { model: 'gpt-4o' });
    expect(out.model).toBe('gpt-4o');
    expect(out.choices[0].finish_reason).toBe('tool_calls');
    expect(out.choices[0].message.tool_calls).toHaveLength(2);
    expect(out.usage?.prompt_tokens_details?.cached_tokens).toBe(64);
  });

  it('rejects bodies that are not completions', () => {
    expect(() => openaiAdapter.chat.fromUpstream({ hello: 1 }, ctx, { model: 'm' })).toThrow(/without choices/);
    expect(() => openaiAdapter.chat.fromUpstream('<html>', ctx, { model: 'm' })).toThrow();
  });

  it('maps stream chunks and ignores [DONE]', () => {
    const m = openaiAdapter.chat.streamMapper(ctx, { model: 'alias' });
    const chunks: ChatCompletionChunk[] = sse('stream-text-usage.sse').flatMap((e) => m.push(e));
    expect(chunks).toHaveLength(5);
    expect(chunks.every((c) => c.model === 'alias')).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks[4].choices).toEqual([]);
    expect(chunks[4].usage?.total_tokens).toBe(11);
  });

  it('calls a stream that ends cleanly without a finish_reason an upstream stream error', () => {
    const events = sse('stream-text-usage.sse');
    const cut = openaiAdapter.chat.streamMapper(ctx, { model: 'alias' });
    events.slice(0, 3).forEach((e) => cut.push(e));
    expect(() => cut.end()).toThrow(UpstreamStreamError);
    expect(() => openaiAdapter.chat.streamMapper(ctx, { model: 'alias' }).end()).toThrow(/ended before the response/);
    // n=2: both choices must finish
    const two = openaiAdapter.chat.streamMapper(ctx, { model: 'alias' });
    const chunk = (index: number, finish: string | null) => ({
      data: JSON.stringify({ id: 'c', choices: [{ index, delta: {}, finish_reason: finish }] }),
    });
    [chunk(0, null), chunk(1, null), chunk(0, 'stop')].forEach((e) => two.push(e));
    expect(() => two.end()).toThrow(UpstreamStreamError);
    two.push(chunk(1, 'length'));
    expect(two.end()).toEqual([]);
    const whole = openaiAdapter.chat.streamMapper(ctx, { model: 'alias' });
    events.forEach((e) => whole.push(e));
    expect(whole.end()).toEqual([]);
  });

  it('throws a safe error for an error event inside a stream', () => {
    const m = openaiAdapter.chat.streamMapper(ctx, { model: 'alias' });
    expect(() => m.push({ data: '{"error":{"message":"overloaded at 10.1.2.3"}}' })).toThrow(
      /failed mid-stream: overloaded at \[ip\]/,
    );
    expect(() => m.push({ data: 'not json' })).toThrow(/not JSON/);
  });

  it('maps errors: credentials generic, context length as bad_request, 429 and 5xx retryable', () => {
    const creds = openaiAdapter.chat.mapError(401, fixture('error-invalid-key.json'));
    expect(creds).toMatchObject({ retryable: false, code: 'upstream_error' });
    expect(creds.message).not.toMatch(/sk-proj|platform\.openai/);
    expect(openaiAdapter.chat.mapError(400, fixture('error-context-length.json'))).toMatchObject({
      retryable: false,
      code: 'bad_request',
      message: expect.stringContaining('maximum context length'),
    });
    expect(openaiAdapter.chat.mapError(429, {}).retryable).toBe(true);
    expect(openaiAdapter.chat.mapError(503, 'Service Unavailable').retryable).toBe(true);
    expect(openaiAdapter.chat.mapError(504, '').code).toBe('upstream_timeout');
  });

  it('embeddings: upstream model out, alias back', () => {
    const call = openaiAdapter.embeddings!.toUpstream({ model: 'small', input: ['a', 'b'], dimensions: 256 }, target);
    expect(call.url).toBe('https://api.example.test/v1/embeddings');
    expect((call.body as Record<string, unknown>).dimensions).toBe(256);
    const out = openaiAdapter.embeddings!.fromUpstream(
      {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.1] }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      },
      { model: 'small', input: 'a' },
      { model: 'small' },
    );
    expect(out.model).toBe('small');
  });
});
