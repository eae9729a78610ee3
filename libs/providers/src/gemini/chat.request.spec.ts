import { AdapterRequestError } from '../errors';
import type { ChatRequest, FunctionTool } from '../types';
import { chatToUpstream } from './chat.request';
import { target } from './test-util';
import type { GeminiGenerateContentRequest } from './types';

function body(req: Partial<ChatRequest>): GeminiGenerateContentRequest {
  const full: ChatRequest = { model: 'gemini-flash', messages: [{ role: 'user', content: 'hi' }], ...req };
  return chatToUpstream(full, target(), { stream: false }).body as GeminiGenerateContentRequest;
}

function rejects(req: Partial<ChatRequest>, param: string): void {
  let caught: unknown;
  try {
    body(req);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AdapterRequestError);
  expect((caught as AdapterRequestError).param).toBe(param);
}

const weatherTool: FunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    strict: true,
    parameters: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        location: { type: 'string' },
        strict: { type: 'boolean', description: 'a property named like a keyword stays' },
        tags: {
          type: 'array',
          items: { type: 'object', properties: { k: { type: 'string' } }, additionalProperties: false },
        },
      },
      required: ['location'],
      additionalProperties: false,
      strict: true,
    },
  },
};

describe('gemini chat toUpstream', () => {
  it('posts to generateContent, or streamGenerateContent?alt=sse when streaming', () => {
    const req: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const t = target({
      baseUrl: 'https://generativelanguage.googleapis.com/',
      upstreamModel: 'models/gemini-2.5-flash',
    });
    expect(chatToUpstream(req, t, { stream: false })).toMatchObject({
      method: 'POST',
      url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    });
    expect(chatToUpstream(req, t, { stream: true }).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
  });

  it('authenticates with x-goog-api-key and adds catalog headers without letting them replace the key', () => {
    const t = target({ quirks: { headers: { 'x-goog-user-project': 'p1', 'x-goog-api-key': 'wrong' } } });
    const call = chatToUpstream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, t, { stream: false });
    expect(call.headers).toMatchObject({
      'x-goog-api-key': 'test-gemini-key',
      'x-goog-user-project': 'p1',
      'content-type': 'application/json',
    });
    expect(call.headers.authorization).toBeUndefined();
  });

  it('declares tools with parametersJsonSchema, dropping only $schema and strict keywords', () => {
    const b = body({ tools: [weatherTool] });
    const decl = b.tools?.[0].functionDeclarations[0];
    expect(decl?.name).toBe('get_weather');
    expect(decl?.description).toBe('Weather for a city');
    expect(decl?.parametersJsonSchema).toEqual({
      type: 'object',
      properties: {
        location: { type: 'string' },
        strict: { type: 'boolean', description: 'a property named like a keyword stays' },
        tags: {
          type: 'array',
          items: { type: 'object', properties: { k: { type: 'string' } }, additionalProperties: false },
        },
      },
      required: ['location'],
      additionalProperties: false,
    });
    expect(decl).not.toHaveProperty('strict');
    expect(b.tools?.[0].functionDeclarations).toHaveLength(1);
  });

  it.each([
    ['auto', { mode: 'AUTO' }],
    ['none', { mode: 'NONE' }],
    ['required', { mode: 'ANY' }],
    [
      { type: 'function', function: { name: 'get_weather' } },
      { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    ],
  ] as const)('maps tool_choice %j to functionCallingConfig', (choice, expected) => {
    expect(body({ tools: [weatherTool], tool_choice: choice }).toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it('sends no tools or toolConfig without tools', () => {
    const b = body({ tool_choice: 'auto' });
    expect(b.tools).toBeUndefined();
    expect(b.toolConfig).toBeUndefined();
  });

  it('maps sampling parameters to generationConfig', () => {
    const b = body({
      temperature: 0.3,
      top_p: 0.9,
      max_tokens: 50,
      max_completion_tokens: 100,
      stop: 'END',
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.25,
    });
    expect(b.generationConfig).toEqual({
      temperature: 0.3,
      topP: 0.9,
      maxOutputTokens: 100,
      stopSequences: ['END'],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
    });
    expect(body({ max_tokens: 50, stop: ['a', 'b'] }).generationConfig).toEqual({
      maxOutputTokens: 50,
      stopSequences: ['a', 'b'],
    });
    expect(body({ temperature: null }).generationConfig).toBeUndefined();
  });

  it('maps response_format json_object and json_schema', () => {
    expect(body({ response_format: { type: 'json_object' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    });
    const schema = {
      $schema: 'x',
      type: 'object',
      properties: { name: { type: 'string' } },
      additionalProperties: false,
    };
    expect(
      body({ response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema } } })
        .generationConfig,
    ).toEqual({
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false },
    });
    expect(body({ response_format: { type: 'text' } }).generationConfig).toBeUndefined();
  });

  it('removes quirks.drop_params before translating', () => {
    const req: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }], seed: 1, temperature: 0.1 };
    const b = chatToUpstream(req, target({ quirks: { drop_params: ['seed'] } }), { stream: false }).body;
    expect((b as GeminiGenerateContentRequest).generationConfig).toEqual({ temperature: 0.1 });
  });

  it('refuses requests Gemini cannot express, naming the field', () => {
    rejects({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }, 'messages[0].tool_call_id');
    rejects({ messages: [{ role: 'system', content: 'only a system prompt' }] }, 'messages');
    rejects(
      {
        messages: [
          {
            role: 'assistant',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }],
          },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
    );
    rejects(
      {
        messages: [
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] },
        ],
      },
      'messages[0].tool_calls[0].function.arguments',
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] },
      'messages[0].content[0].image_url.url',
    );
    rejects(
      { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }] },
      'messages[0].content[0].file',
    );
    rejects({ tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'other' } } }, 'tool_choice');
    rejects({ tool_choice: 'required' }, 'tool_choice');
    rejects(
      { response_format: { type: 'grammar' } as unknown as ChatRequest['response_format'] },
      'response_format.type',
    );
    rejects({ tools: [{ type: 'code_interpreter' } as unknown as FunctionTool] }, 'tools[0]');
  });
});
