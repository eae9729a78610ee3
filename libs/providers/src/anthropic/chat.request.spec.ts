import type { ChatMessage, ChatRequest, RouteTarget } from '../types';
import { AdapterRequestError } from '../errors';
import { anthropicChat } from './index';
import { JSON_MODE_TOOL_NAME } from './json-mode';
import type { AnthropicMessagesRequest } from './types';

const target: RouteTarget = {
  providerId: 'anthropic',
  kind: 'anthropic',
  baseUrl: 'https://api.anthropic.com/',
  apiKey: 'sk-ant-test-key',
  upstreamModel: 'claude-sonnet-4-5-20250929',
  timeoutMs: 60_000,
};

function body(req: Partial<ChatRequest>, t: RouteTarget = target, stream = false): AnthropicMessagesRequest {
  const call = anthropicChat.toUpstream(
    { model: 'claude-alias', messages: [{ role: 'user', content: 'hi' }], ...req },
    t,
    { stream },
  );
  return call.body as AnthropicMessagesRequest;
}

function rejects(req: Partial<ChatRequest>): AdapterRequestError {
  try {
    body(req);
  } catch (e) {
    expect(e).toBeInstanceOf(AdapterRequestError);
    return e as AdapterRequestError;
  }
  throw new Error('expected an AdapterRequestError');
}

describe('anthropic toUpstream: the call', () => {
  it('posts to {baseUrl}/v1/messages with the key, the API version and catalog headers', () => {
    const call = anthropicChat.toUpstream(
      { model: 'alias', messages: [{ role: 'user', content: 'hi' }] },
      { ...target, quirks: { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } } },
      { stream: false },
    );
    expect(call.method).toBe('POST');
    expect(call.url).toBe('https://api.anthropic.com/v1/messages');
    expect(call.headers).toMatchObject({
      'x-api-key': 'sk-ant-test-key',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      'anthropic-beta': 'prompt-caching-2024-07-31',
    });
  });

  it('sends the upstream model, not the alias', () => {
    expect(body({}).model).toBe('claude-sonnet-4-5-20250929');
  });

  it('sets stream only for streaming calls', () => {
    expect(body({}, target, true).stream).toBe(true);
    expect(body({ stream: true }, target, false).stream).toBeUndefined();
  });

  it('removes the catalog drop_params from the body', () => {
    const b = body({ temperature: 0.5, top_p: 0.9 }, { ...target, quirks: { drop_params: ['top_p'] } });
    expect(b.temperature).toBe(0.5);
    expect(b).not.toHaveProperty('top_p');
  });
});

describe('anthropic toUpstream: messages', () => {
  it('joins system and developer messages into the system prompt, wherever they are', () => {
    const b = body({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ],
    });
    expect(b.system).toEqual([
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Answer in French.' },
    ]);
    expect(b.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('translates http(s) and data-URL images', () => {
    const b = body({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ', detail: 'high' } },
          ],
        },
      ],
    });
    expect(b.messages[0].content).toEqual([
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
    ]);
  });

  it('refuses images Anthropic cannot take, and audio', () => {
    const bmp = rejects({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }],
    });
    expect(bmp.message).toMatch(/image\/bmp/);
    expect(bmp.param).toBe('messages[0].content');
    const audio = rejects({
      messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }],
    });
    expect(audio.message).toBe('audio input is not supported by this model');
  });

  it('turns PDF file parts into document blocks and refuses unresolved file_id parts', () => {
    const b = body({
      messages: [
        {
          role: 'user',
          content: [{ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBER', filename: 'a.pdf' } }],
        },
      ],
    });
    expect(b.messages[0].content).toEqual([
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBER' }, title: 'a.pdf' },
    ]);
    expect(
      rejects({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] }).param,
    ).toBe('messages[0].content');
  });

  it('turns assistant tool_calls into tool_use blocks, invalid JSON arguments into {}', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{not json' } },
          ],
        },
      ],
    });
    expect(b.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
      ],
    });
  });

  it('merges consecutive tool messages and the next user message into one user turn, tool results first', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'weather and time?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
      { role: 'user', content: 'thanks, and tomorrow?' },
    ];
    const b = body({ messages });
    expect(b.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(b.messages[1].content).toEqual([
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} },
      { type: 'tool_use', id: 'call_2', name: 'get_time', input: {} },
    ]);
    expect(b.messages[2].content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
      { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
      { type: 'text', text: 'thanks, and tomorrow?' },
    ]);
  });

  it('puts tool results before user text even when the client sent them after it', () => {
    const b = body({
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'user', content: 'also this' },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
      ],
    });
    expect(b.messages[1].content).toEqual([
      { type: 'tool_result', tool_use_id: 'c1', content: 'done' },
      { type: 'text', text: 'also this' },
    ]);
  });

  it('merges consecutive same-role messages so that roles alternate', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
        { role: 'assistant', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'three' },
      ],
    });
    expect(b.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      },
      { role: 'user', content: 'three' },
    ]);
  });

  it('drops empty text, which Anthropic refuses', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '' } }],
        },
      ],
    });
    expect(b.messages[1].content).toEqual([{ type: 'tool_use', id: 'c', name: 'f', input: {} }]);
  });
});

describe('anthropic toUpstream: parameters', () => {
  it('takes max_tokens from max_completion_tokens, then max_tokens, then 4096', () => {
    expect(body({ max_completion_tokens: 100, max_tokens: 200 }).max_tokens).toBe(100);
    expect(body({ max_tokens: 200 }).max_tokens).toBe(200);
    expect(body({}).max_tokens).toBe(4096);
  });

  it('clamps temperature to 0..1 and passes top_p', () => {
    expect(body({ temperature: 1.7 }).temperature).toBe(1);
    expect(body({ temperature: -1 }).temperature).toBe(0);
    expect(body({ temperature: 0.3, top_p: 0.8 })).toMatchObject({ temperature: 0.3, top_p: 0.8 });
    expect(body({ temperature: null })).not.toHaveProperty('temperature');
  });

  it('turns stop into stop_sequences and user into metadata.user_id', () => {
    expect(body({ stop: 'END' }).stop_sequences).toEqual(['END']);
    expect(body({ stop: ['a', 'b'] }).stop_sequences).toEqual(['a', 'b']);
    expect(body({ user: 'customer-42' }).metadata).toEqual({ user_id: 'customer-42' });
  });

  it('refuses n > 1 and accepts n = 1', () => {
    expect(rejects({ n: 2 }).param).toBe('n');
    expect(body({ n: 1 }).model).toBeDefined();
  });
});

describe('anthropic toUpstream: tools', () => {
  const tools: ChatRequest['tools'] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather by city',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    },
    { type: 'function', function: { name: 'ping' } },
  ];

  it('maps tools to name, description and input_schema', () => {
    expect(body({ tools }).tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather by city',
        input_schema: { type: 'object', properties: { city: { type: 'string' } } },
      },
      { name: 'ping', input_schema: { type: 'object', properties: {} } },
    ]);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    ['none', { type: 'none' }],
    [
      { type: 'function', function: { name: 'ping' } },
      { type: 'tool', name: 'ping' },
    ],
  ] as const)('maps tool_choice %j', (choice, expected) => {
    expect(body({ tools, tool_choice: choice }).tool_choice).toEqual(expected);
  });

  it('maps parallel_tool_calls: false to disable_parallel_tool_use', () => {
    expect(body({ tools, parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(body({ tools, tool_choice: 'required', parallel_tool_calls: false }).tool_choice).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
  });

  it('sends no tool_choice without tools', () => {
    expect(body({ tool_choice: 'auto' })).not.toHaveProperty('tool_choice');
  });

  it('refuses a client tool that takes the reserved JSON-mode name', () => {
    const err = rejects({ tools: [{ type: 'function', function: { name: JSON_MODE_TOOL_NAME } }] });
    expect(err.param).toBe('tools[0].function.name');
  });
});

describe('anthropic toUpstream: response_format', () => {
  it('json_object forces a tool with an open object schema', () => {
    const b = body({ response_format: { type: 'json_object' } });
    expect(b.tools).toEqual([expect.objectContaining({ name: JSON_MODE_TOOL_NAME, input_schema: { type: 'object' } })]);
    expect(b.tool_choice).toEqual({ type: 'tool', name: JSON_MODE_TOOL_NAME });
  });

  it('json_schema forces a tool whose input_schema is the schema', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const b = body({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
    expect(b.tools).toEqual([expect.objectContaining({ name: JSON_MODE_TOOL_NAME, input_schema: schema })]);
    expect(b.tools?.[0].description).toMatch(/person/);
    expect(b.tool_choice).toEqual({ type: 'tool', name: JSON_MODE_TOOL_NAME });
  });

  it('with client tools, lets the model call any tool: a real one or the JSON answer', () => {
    const b = body({
      tools: [{ type: 'function', function: { name: 'lookup' } }],
      response_format: { type: 'json_object' },
    });
    expect(b.tools?.map((t) => t.name)).toEqual(['lookup', JSON_MODE_TOOL_NAME]);
    expect(b.tool_choice).toEqual({ type: 'any' });
  });

  it('with client tools, honours a named tool_choice, and forces the JSON tool when tool_choice is none', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'lookup' } }];
    const format = { type: 'json_object' } as const;
    expect(
      body({ tools, response_format: format, tool_choice: { type: 'function', function: { name: 'lookup' } } })
        .tool_choice,
    ).toEqual({ type: 'tool', name: 'lookup' });
    expect(body({ tools, response_format: format, tool_choice: 'none' }).tool_choice).toEqual({
      type: 'tool',
      name: JSON_MODE_TOOL_NAME,
    });
  });

  it('refuses a malformed tool_choice', () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'lookup' } }];
    expect(rejects({ tools, tool_choice: { type: 'function' } as never }).param).toBe('tool_choice');
  });

  it('text format changes nothing', () => {
    const b = body({ response_format: { type: 'text' } });
    expect(b).not.toHaveProperty('tools');
    expect(b).not.toHaveProperty('tool_choice');
  });
});
