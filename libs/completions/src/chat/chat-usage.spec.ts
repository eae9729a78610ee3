import type { ChatCompletion } from '@switchyard/providers';
import { completionUsage, meteredFrom } from './chat-usage';

describe('chat usage', () => {
  it('takes the counts the upstream reported', () => {
    expect(
      meteredFrom({
        prompt_tokens: 9,
        completion_tokens: 2,
        total_tokens: 11,
        prompt_tokens_details: { cached_tokens: 4 },
      }),
    ).toEqual({ inputTokens: 9, cachedInputTokens: 4, outputTokens: 2 });
  });

  it('treats no usage, and all-zero usage, as not reported', () => {
    expect(meteredFrom(undefined)).toBeUndefined();
    expect(meteredFrom(null)).toBeUndefined();
    expect(meteredFrom({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 })).toBeUndefined();
  });

  it('counts with the tokenizer when the upstream reported nothing, and fills usage in for the client', () => {
    const c = {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, friend', refusal: null } }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    } as unknown as ChatCompletion;
    const m = completionUsage({ model: 'm', messages: [{ role: 'user', content: 'Say hello' }] }, c);
    expect(m.inputTokens).toBeGreaterThan(0);
    expect(m.outputTokens).toBe(4);
    expect(c.usage).toMatchObject({ prompt_tokens: m.inputTokens, completion_tokens: 4 });
  });
});
