import { carriesAnswer, MAX_UNCOMMITTED_CHUNKS, readyToCommit } from './stream-commit';

const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({
  choices: [{ index: 0, delta, finish_reason }],
});

describe('stream commit point', () => {
  it('waits past role-only and empty chunks', () => {
    expect(carriesAnswer(chunk({ role: 'assistant', content: '' }))).toBe(false);
    expect(carriesAnswer(chunk({ role: 'assistant', content: null, refusal: null }))).toBe(false);
    expect(carriesAnswer(chunk({ tool_calls: [] }))).toBe(false);
    expect(carriesAnswer({ choices: [] })).toBe(false);
    expect(readyToCommit([chunk({ role: 'assistant', content: '' }), chunk({})])).toBe(false);
  });

  it('commits on content, a refusal, a tool call, a finish or usage', () => {
    expect(carriesAnswer(chunk({ content: 'Hi' }))).toBe(true);
    expect(carriesAnswer(chunk({ refusal: 'No' }))).toBe(true);
    expect(carriesAnswer(chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f' } }] }))).toBe(true);
    expect(carriesAnswer(chunk({}, 'stop'))).toBe(true);
    expect(carriesAnswer({ choices: [], usage: { prompt_tokens: 1 } })).toBe(true);
    expect(readyToCommit([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hi' })])).toBe(true);
  });

  it('is bounded: an upstream sending only empty chunks is committed after a while', () => {
    expect(readyToCommit(Array.from({ length: MAX_UNCOMMITTED_CHUNKS }, () => chunk({})))).toBe(true);
  });
});
