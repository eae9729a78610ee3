import type { AnthropicMessagesRequest } from '../../../providers/src/anthropic/types';
import { countMessageOutput, countMessagesInput, estimateMessagesInputTokens, sizingView } from './messages-count';

const LONG = 'The quick brown fox jumps over the lazy dog. '.repeat(20);

/** Blocks only Anthropic speaks: the chat conversion refuses them, sizing must not. */
const serverToolRequest: AnthropicMessagesRequest = {
  model: 'claude-sonnet-4-6',
  max_tokens: 100,
  system: [{ type: 'text', text: 'Answer from the sources.' }],
  tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 1 } as never],
  messages: [
    {
      role: 'user',
      content: [
        {
          type: 'search_result',
          source: 'https://docs.test/a',
          title: 'A page',
          content: [{ type: 'text', text: LONG }],
        } as never,
        { type: 'text', text: 'What does the page say?' },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'fox' } } as never,
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] } as never,
        { type: 'text', text: 'It says a fox jumps.' },
      ],
    },
    { role: 'user', content: 'And the dog?' },
  ],
};

describe('sizing an Anthropic request without converting it', () => {
  it('reads every block, server tool blocks and search results included', () => {
    const view = sizingView(serverToolRequest);
    expect(view.messages).toHaveLength(4); // the system prompt and three turns
    const text = JSON.stringify(view.messages);
    expect(text).toContain('The quick brown fox');
    expect(text).toContain('https://docs.test/a');
    expect(text).toContain('web_search{\\"query\\":\\"fox\\"}');
    expect(view.tools).toEqual(serverToolRequest.tools);
  });

  it('estimates on the high side and counts with the tokenizer', () => {
    const counted = countMessagesInput(serverToolRequest);
    expect(counted).toBeGreaterThan(200); // the search result alone is ~200 tokens
    expect(estimateMessagesInputTokens(serverToolRequest)).toBeGreaterThanOrEqual(counted);
  });

  it('counts images and a structured output schema', () => {
    const plain: AnthropicMessagesRequest = { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] };
    const withImage: AnthropicMessagesRequest = {
      ...plain,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            { type: 'text', text: 'hi' },
          ],
        },
      ],
    };
    const schema = { type: 'object', properties: { a_long_property_name: { type: 'string' } } };
    const withFormat = { ...plain, output_config: { format: { type: 'json_schema', schema } } };
    expect(countMessagesInput(withImage)).toBeGreaterThan(countMessagesInput(plain) + 500);
    expect(countMessagesInput(withFormat)).toBeGreaterThan(countMessagesInput(plain));
    expect(estimateMessagesInputTokens(withFormat)).toBeGreaterThan(estimateMessagesInputTokens(plain));
  });

  it('counts an answer’s text and tool inputs', () => {
    expect(countMessageOutput([{ type: 'text', text: 'Hello there' }])).toBe(2);
    expect(
      countMessageOutput([{ type: 'tool_use', id: 't', name: 'get_weather', input: { city: 'Paris' } }]),
    ).toBeGreaterThan(3);
    expect(countMessageOutput(undefined)).toBe(0);
  });
});
