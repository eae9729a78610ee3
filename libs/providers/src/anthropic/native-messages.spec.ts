import type { RouteTarget } from '../types';
import { nativeMessageResult, nativeMessagesCall, nativeStreamMeter } from './native-messages';
import type { AnthropicMessagesRequest } from './types';

const target: RouteTarget = {
  providerId: 'anthropic',
  kind: 'anthropic',
  baseUrl: 'https://api.anthropic.com/',
  apiKey: 'sk-ant-test',
  upstreamModel: 'claude-sonnet-4-6-20260101',
  timeoutMs: 10_000,
  quirks: { headers: { 'anthropic-beta': 'catalog-beta-1' } },
};

const request: AnthropicMessagesRequest = {
  model: 'anthropic/claude-sonnet-4-6',
  max_tokens: 100,
  system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
  thinking: { type: 'enabled', budget_tokens: 2048 },
  tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2 } as never],
  messages: [{ role: 'user', content: [{ type: 'search_result', source: 'https://x.test', title: 't' } as never] }],
  output_config: { format: { type: 'json_schema', schema: { type: 'object' } } },
};

describe('nativeMessagesCall', () => {
  it('sends the request as the client sent it, with the upstream model and the stream flag', () => {
    const call = nativeMessagesCall(request, target, { stream: true });
    expect(call.url).toBe('https://api.anthropic.com/v1/messages');
    expect(call.body).toEqual({ ...request, model: 'claude-sonnet-4-6-20260101', stream: true });
    expect(call.headers['x-api-key']).toBe('sk-ant-test');
  });

  it('adds the client’s betas to the catalog’s', () => {
    const call = nativeMessagesCall(request, target, { beta: 'structured-outputs-2025-11-13' });
    expect(call.headers['anthropic-beta']).toBe('catalog-beta-1,structured-outputs-2025-11-13');
    const plain = nativeMessagesCall(request, { ...target, quirks: {} }, { beta: 'b2' });
    expect(plain.headers['anthropic-beta']).toBe('b2');
    expect(nativeMessagesCall(request, { ...target, quirks: {} }).headers['anthropic-beta']).toBeUndefined();
  });

  it('counts tokens with the same body, on count_tokens and without a stream flag', () => {
    const { max_tokens: _, ...countBody } = request;
    const call = nativeMessagesCall(countBody as AnthropicMessagesRequest, target, { endpoint: 'count_tokens' });
    expect(call.url).toBe('https://api.anthropic.com/v1/messages/count_tokens');
    expect(call.body).toEqual({ ...countBody, model: 'claude-sonnet-4-6-20260101' });
  });
});

describe('nativeMessageResult', () => {
  const message = (extra: Record<string, unknown>) => ({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-6-20260101',
    content: [{ type: 'text', text: 'hi' }],
    ...extra,
  });

  it('puts the client’s model name in and reads the usage, cache reads and writes included', () => {
    const r = nativeMessageResult(
      message({
        usage: { input_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 2, output_tokens: 7 },
      }),
      'alias',
    );
    expect(r.message.model).toBe('alias');
    expect(r.usage).toEqual({ inputTokens: 17, cachedInputTokens: 5, outputTokens: 7 });
  });

  it('gives no usage when the upstream reported none or only part, never zeros', () => {
    expect(nativeMessageResult(message({}), 'alias').usage).toBeUndefined();
    expect(nativeMessageResult(message({ usage: { input_tokens: 3 } }), 'alias').usage).toBeUndefined();
    expect(
      nativeMessageResult(message({ usage: { input_tokens: null, output_tokens: 2 } }), 'a').usage,
    ).toBeUndefined();
  });
});

describe('nativeStreamMeter', () => {
  const ev = (data: Record<string, unknown>) => ({ data: JSON.stringify(data) });

  it('reports only what the upstream sent: nothing for a stream without usage', () => {
    const meter = nativeStreamMeter('alias');
    const start = meter.push(ev({ type: 'message_start', message: { model: 'upstream', content: [] } }));
    expect((start!.data.message as { model: string }).model).toBe('alias');
    meter.push(ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }));
    meter.push(ev({ type: 'message_delta', delta: { stop_reason: 'end_turn' } }));
    meter.push(ev({ type: 'message_stop' }));
    expect(meter.usage).toEqual({});
    expect(meter.producedText).toBe('Hello');
    expect(meter.complete).toBe(true);
  });
});
