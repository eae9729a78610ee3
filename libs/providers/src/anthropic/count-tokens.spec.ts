import { anthropicJson } from '../../../../test/fixtures/anthropic/load';
import type { RouteTarget } from '../types';
import { UpstreamMalformedError } from '../types';
import { anthropicAdapter } from './index';
import { JSON_MODE_TOOL_NAME } from './json-mode';

const target: RouteTarget = {
  providerId: 'anthropic',
  kind: 'anthropic',
  baseUrl: 'https://api.anthropic.com',
  apiKey: 'sk-ant-test',
  upstreamModel: 'claude-haiku-4-5',
  timeoutMs: 10_000,
};

describe('anthropic adapter', () => {
  it('is the anthropic kind with chat and token counting, without embeddings', () => {
    expect(anthropicAdapter.kind).toBe('anthropic');
    expect(anthropicAdapter.chat).toBeDefined();
    expect(anthropicAdapter.countTokens).toBeDefined();
    expect(anthropicAdapter.embeddings).toBeUndefined();
  });
});

describe('anthropic countTokens', () => {
  const countTokens = anthropicAdapter.countTokens!;

  it('posts the translated prompt to /v1/messages/count_tokens, without max_tokens, stream or sampling', () => {
    const call = countTokens.toUpstream(
      {
        model: 'alias',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'hi' },
        ],
        max_tokens: 100,
        stream: true,
        temperature: 0.2,
        user: 'u1',
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: 'required',
      },
      target,
    );
    expect(call.url).toBe('https://api.anthropic.com/v1/messages/count_tokens');
    expect(call.headers).toMatchObject({ 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' });
    expect(call.body).toEqual({
      model: 'claude-haiku-4-5',
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'f', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'any' },
    });
  });

  it('counts the JSON-mode tool, as the real request carries it', () => {
    const call = countTokens.toUpstream(
      { model: 'alias', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } },
      target,
    );
    expect((call.body as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).toEqual([JSON_MODE_TOOL_NAME]);
  });

  it('reads input_tokens', () => {
    expect(countTokens.fromUpstream(anthropicJson('count-tokens.json'))).toEqual({ input_tokens: 2095 });
  });

  it.each([[{}], [{ input_tokens: '12' }], [null]])('throws UpstreamMalformedError on %j', (junk) => {
    expect(() => countTokens.fromUpstream(junk)).toThrow(UpstreamMalformedError);
  });
});
