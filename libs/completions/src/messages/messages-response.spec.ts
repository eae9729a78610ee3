import { anthropicJson } from '../../../../test/fixtures/anthropic/load';
import { anthropicChat } from '../../../providers/src/anthropic';
import type { AdapterContext, ChatCompletion, FinishReason } from '../../../providers/src/types';
import { chatCompletionToMessage } from './messages-response';

function testCtx(): AdapterContext {
  let n = 0;
  return { now: () => 1_700_000_000_000, newId: (prefix) => `${prefix}_test${++n}` };
}

function completion(
  message: Partial<ChatCompletion['choices'][number]['message']>,
  finish: FinishReason = 'stop',
): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null, ...message },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    usage: {
      prompt_tokens: 120,
      completion_tokens: 30,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 100 },
    },
  };
}

describe('chatCompletionToMessage', () => {
  it('builds a message with an id from ctx, the model asked for, and a text block', () => {
    const m = chatCompletionToMessage(completion({ content: 'Hello!' }), 'claude-alias', testCtx());
    expect(m).toEqual({
      id: 'msg_test1',
      type: 'message',
      role: 'assistant',
      model: 'claude-alias',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 100 },
    });
  });

  it('maps tool calls to tool_use blocks with parsed input (invalid JSON -> {})', () => {
    const m = chatCompletionToMessage(
      completion(
        {
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{oops' } },
          ],
        },
        'tool_calls',
      ),
      'claude-alias',
      testCtx(),
    );
    expect(m.content).toEqual([
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
    ]);
    expect(m.stop_reason).toBe('tool_use');
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
  ] as const)('maps finish_reason %s to stop_reason %s', (finish, stop) => {
    expect(chatCompletionToMessage(completion({ content: 'x' }, finish), 'm', testCtx()).stop_reason).toBe(stop);
  });

  it('produces no empty text block', () => {
    expect(chatCompletionToMessage(completion({ content: '' }), 'm', testCtx()).content).toEqual([]);
  });

  it('carries a refusal as text with stop_reason refusal', () => {
    const m = chatCompletionToMessage(completion({ refusal: 'I cannot help with that.' }), 'm', testCtx());
    expect(m.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }]);
    expect(m.stop_reason).toBe('refusal');
  });

  it('gives back the Anthropic usage an Anthropic upstream reported, cache writes included', () => {
    const c = anthropicChat.fromUpstream(anthropicJson('message-text.json'), testCtx(), { model: 'claude-alias' });
    expect(chatCompletionToMessage(c, 'claude-alias', testCtx()).usage).toEqual({
      input_tokens: 12,
      output_tokens: 9,
      cache_creation_input_tokens: 100,
      cache_read_input_tokens: 2048,
    });
  });

  it('round-trips an Anthropic tool_use message through the chat shape', () => {
    const original = anthropicJson<{ content: unknown; stop_reason: string }>('message-tool-use.json');
    const c = anthropicChat.fromUpstream(original, testCtx(), { model: 'claude-alias' });
    const m = chatCompletionToMessage(c, 'claude-alias', testCtx());
    expect(m.content).toEqual(original.content);
    expect(m.stop_reason).toBe(original.stop_reason);
  });
});
