// What the adapter hands the gateway must be valid OpenAI wire output, checked against OpenAI's own spec.
import { anthropicJson, anthropicSse } from '../../../../test/fixtures/anthropic/load';
import { validateOpenAI } from '../../../../tools/demo-upstream/openapi-validator';
import type { AdapterContext } from '../types';
import { anthropicChat } from './index';

function testCtx(): AdapterContext {
  let n = 0;
  return { now: () => 1_700_000_000_999, newId: (prefix) => `${prefix}-test${++n}` };
}
const meta = { model: 'claude-alias' };

describe('anthropic adapter output against the OpenAI spec', () => {
  it('would catch a broken shape (the check is not vacuous)', () => {
    const completion = anthropicChat.fromUpstream(anthropicJson('message-text.json'), testCtx(), meta);
    expect(validateOpenAI('CreateChatCompletionResponse', { ...completion, choices: [{ index: 0 }] })).not.toEqual([]);
  });

  it.each([
    'message-text.json',
    'message-stop-sequence.json',
    'message-tool-use.json',
    'message-parallel-tool-use.json',
    'message-max-tokens.json',
    'message-json-mode.json',
    'message-refusal.json',
  ])('fromUpstream(%s) is a CreateChatCompletionResponse', (fixture) => {
    const completion = anthropicChat.fromUpstream(anthropicJson(fixture), testCtx(), meta);
    expect(validateOpenAI('CreateChatCompletionResponse', completion)).toEqual([]);
  });

  it.each([
    'stream-text.sse',
    'stream-tool-use.sse',
    'stream-parallel-tool-use.sse',
    'stream-max-tokens.sse',
    'stream-json-mode.sse',
  ])('every chunk of %s is a CreateChatCompletionStreamResponse', (fixture) => {
    const mapper = anthropicChat.streamMapper(testCtx(), meta);
    const chunks = [...anthropicSse(fixture).flatMap((e) => mapper.push(e)), ...mapper.end()];
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(validateOpenAI('CreateChatCompletionStreamResponse', chunk)).toEqual([]);
  });
});
