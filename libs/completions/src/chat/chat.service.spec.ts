import type { ResolvedModel } from '@switchyard/catalog';
import type { Admission } from '@switchyard/pipeline';
import type { ChatRequest } from '@switchyard/providers';
import { withOutputLimit } from './chat.service';

const model = { capabilities: { max_output_tokens: 8000 } } as unknown as ResolvedModel;
const admission = (outputCap: number | null, kinds: string[] = ['openai']) =>
  ({ outputCap, attempts: kinds.map((kind) => ({ target: { kind } })) }) as unknown as Admission;
const chat: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('withOutputLimit', () => {
  it('caps a low balance with max_completion_tokens, never max_tokens (reasoning models refuse it)', () => {
    const out = withOutputLimit(chat, admission(123), model);
    expect(out.max_completion_tokens).toBe(123);
    expect(out).not.toHaveProperty('max_tokens');
  });

  it("gives Anthropic routes the model's maximum, and leaves other requests alone", () => {
    expect(withOutputLimit(chat, admission(null, ['openai', 'anthropic']), model).max_completion_tokens).toBe(8000);
    expect(withOutputLimit(chat, admission(null), model)).toBe(chat);
  });

  it("keeps the client's own limit, whichever field it used", () => {
    const own = { ...chat, max_tokens: 5 };
    expect(withOutputLimit(own, admission(123, ['anthropic']), model)).toBe(own);
  });
});
