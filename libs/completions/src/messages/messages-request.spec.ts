import { anthropicChat } from '../../../providers/src/anthropic';
import type {
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicTextBlock,
} from '../../../providers/src/anthropic/types';
import { AdapterRequestError } from '../../../providers/src/errors';
import type { RouteTarget } from '../../../providers/src/types';
import { messagesRequestToChat } from './messages-request';

const base = { model: 'claude-alias', max_tokens: 1024 };

function rejects(req: AnthropicMessagesRequest): AdapterRequestError {
  try {
    messagesRequestToChat(req);
  } catch (e) {
    expect(e).toBeInstanceOf(AdapterRequestError);
    return e as AdapterRequestError;
  }
  throw new Error('expected an AdapterRequestError');
}

describe('messagesRequestToChat', () => {
  it('maps system, max_tokens, sampling, stop_sequences and metadata.user_id', () => {
    const chat = messagesRequestToChat({
      ...base,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello' }],
      temperature: 0.4,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'customer-7' },
    });
    expect(chat).toEqual({
      model: 'claude-alias',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      max_tokens: 1024,
      temperature: 0.4,
      top_p: 0.9,
      stop: ['END'],
      user: 'customer-7',
    });
  });

  it('keeps system text blocks as text parts', () => {
    const chat = messagesRequestToChat({
      ...base,
      system: [
        { type: 'text', text: 'A', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'B' },
      ],
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.messages[0]).toEqual({
      role: 'system',
      content: [
        { type: 'text', text: 'A' },
        { type: 'text', text: 'B' },
      ],
    });
  });

  it('streams with usage included, since message_delta reports usage', () => {
    const chat = messagesRequestToChat({ ...base, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.stream).toBe(true);
    expect(chat.stream_options).toEqual({ include_usage: true });
  });

  it('maps base64 and url images, base64 PDFs and text documents', () => {
    const chat = messagesRequestToChat({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
            {
              type: 'document',
              source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' },
              title: 'spec.pdf',
            },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain notes' } },
          ],
        },
      ],
    });
    expect(chat.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'Look' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
        { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
        { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'spec.pdf' } },
        { type: 'text', text: 'plain notes' },
      ],
    });
  });

  it('maps assistant tool_use to tool_calls and skips thinking blocks', () => {
    const chat = messagesRequestToChat({
      ...base,
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'need a tool', signature: 'sig' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
      ],
    });
    expect(chat.messages[1]).toEqual({
      role: 'assistant',
      content: 'Checking.',
      tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    });
  });

  it('splits a user turn of tool results into tool messages, then the user input', () => {
    const chat = messagesRequestToChat({
      ...base,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: [
                { type: 'text', text: 'chart attached' },
                { type: 'image', source: { type: 'url', url: 'https://example.com/chart.png' } },
              ],
            },
            { type: 'text', text: 'and tomorrow?' },
          ],
        },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'chart attached' }] },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'https://example.com/chart.png' } },
          { type: 'text', text: 'and tomorrow?' },
        ],
      },
    ]);
  });

  it('maps tools and every tool_choice, with disable_parallel_tool_use', () => {
    const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: {} } }];
    const chat = messagesRequestToChat({
      ...base,
      messages: [{ role: 'user', content: 'hi' }],
      tools,
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } },
      },
    ]);
    expect(chat.tool_choice).toBe('required');
    expect(chat.parallel_tool_calls).toBe(false);
    const choice = (tc: AnthropicMessagesRequest['tool_choice']) =>
      messagesRequestToChat({ ...base, messages: [{ role: 'user', content: 'hi' }], tools, tool_choice: tc })
        .tool_choice;
    expect(choice({ type: 'auto' })).toBe('auto');
    expect(choice({ type: 'none' })).toBe('none');
    expect(choice({ type: 'tool', name: 'get_weather' })).toEqual({
      type: 'function',
      function: { name: 'get_weather' },
    });
  });

  it('refuses audio-like, unknown blocks and server tools with a param', () => {
    const audio = rejects({
      ...base,
      messages: [{ role: 'user', content: [{ type: 'input_audio', data: 'AAAA' } as never] }],
    });
    expect(audio.message).toMatch(/audio/);
    expect(audio.param).toBe('messages[0].content[0]');
    expect(
      rejects({ ...base, messages: [{ role: 'user', content: [{ type: 'search_result' } as never] }] }).message,
    ).toMatch(/search_result/);
    expect(
      rejects({
        ...base,
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search', input_schema: {} }],
      }).param,
    ).toBe('tools[0]');
    expect(
      rejects({
        ...base,
        messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'url', url: 'https://x/a.pdf' } }] }],
      }).param,
    ).toBe('messages[0].content[0]');
  });
});

describe('messagesRequestToChat: structured outputs', () => {
  const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };
  const user: AnthropicMessageParam[] = [{ role: 'user', content: 'What is 6 x 7?' }];

  it('maps output_config.format and the beta output_format to response_format json_schema', () => {
    const expected = { type: 'json_schema', json_schema: { name: 'output', schema } };
    const current = messagesRequestToChat({
      ...base,
      messages: user,
      output_config: { effort: 'low', format: { type: 'json_schema', schema } },
    });
    expect(current.response_format).toEqual(expected);
    const beta = messagesRequestToChat({ ...base, messages: user, output_format: { type: 'json_schema', schema } });
    expect(beta.response_format).toEqual(expected);
    expect(messagesRequestToChat({ ...base, messages: user, output_config: { effort: 'low' } }).response_format).toBe(
      undefined,
    );
  });

  it('refuses an output format that is not a json_schema with a schema, with its param', () => {
    const bad = rejects({ ...base, messages: user, output_format: { type: 'xml' } });
    expect(bad.param).toBe('output_format');
    const noSchema = rejects({ ...base, messages: user, output_config: { format: { type: 'json_schema' } } });
    expect(noSchema.param).toBe('output_config.format.schema');
  });
});

describe('round trip: Anthropic request -> chat -> Anthropic adapter', () => {
  const target: RouteTarget = {
    providerId: 'anthropic',
    kind: 'anthropic',
    baseUrl: 'https://api.anthropic.com',
    upstreamModel: 'claude-alias',
    timeoutMs: 1000,
  };

  // Strings and single text blocks are the same content to Anthropic.
  const norm = (content: AnthropicMessageParam['content']) =>
    typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  const normSystem = (system: AnthropicMessagesRequest['system']): AnthropicTextBlock[] | undefined =>
    typeof system === 'string' ? [{ type: 'text', text: system }] : system;
  const roundTrip = (req: AnthropicMessagesRequest, stream = false) => {
    const out = anthropicChat.toUpstream(messagesRequestToChat(req), target, { stream })
      .body as AnthropicMessagesRequest;
    return {
      ...out,
      system: normSystem(out.system),
      messages: out.messages.map((m) => ({ role: m.role, content: norm(m.content) })),
    };
  };
  const expected = (req: AnthropicMessagesRequest) => ({
    ...req,
    system: normSystem(req.system),
    messages: req.messages.map((m) => ({ role: m.role, content: norm(m.content) })),
  });

  it('a plain conversation with system, sampling, stop and user', () => {
    const req: AnthropicMessagesRequest = {
      model: 'claude-alias',
      max_tokens: 512,
      system: 'You are terse.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: [{ type: 'text', text: 'Count to 3' }] },
      ],
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['4'],
      metadata: { user_id: 'u-1' },
    };
    expect(roundTrip(req)).toEqual(expected(req));
  });

  it('a streamed tool conversation with images and parallel tool results', () => {
    const req: AnthropicMessagesRequest = {
      model: 'claude-alias',
      max_tokens: 1024,
      stream: true,
      tools: [
        {
          name: 'get_weather',
          description: 'Weather by city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } } },
        },
        { name: 'get_time', input_schema: { type: 'object', properties: {} } },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'text', text: 'Where is this, and what is the weather and time there?' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Paris. Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '12:00' }] },
            { type: 'text', text: 'Summarize.' },
          ],
        },
      ],
    };
    expect(roundTrip(req, true)).toEqual(expected(req));
  });
});
