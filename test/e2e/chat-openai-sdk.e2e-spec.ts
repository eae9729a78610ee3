// /v1/chat/completions through the official `openai` SDK, for each upstream kind (openai, anthropic,
// gemini adapters behind the same OpenAI wire format). Replies follow the demo upstream's content rules
// (tools/demo-upstream/README.md), so content, tool arguments and usage are known in advance.
import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionTool,
  ParsedFunctionToolCall,
} from 'openai/resources/chat/completions';
import { startStack, TestStack } from './helpers/test-stack';
import {
  CHAT_KINDS,
  lastUpstream,
  nanos,
  plain,
  PRICE_NANOS_PER_TOKEN,
  sdkTenant,
  specErrors,
} from './helpers/sdk-setup';

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};
const TIME: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Local time in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, hours_ahead: { type: 'integer', minimum: 3 } },
      required: ['city', 'hours_ahead'],
    },
  },
};

async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(plain(c));
  return chunks;
}

function expectValidChunks(chunks: ChatCompletionChunk[]): void {
  for (const c of chunks) expect(specErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
}

function contentOf(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
}

describe('chat completions through the OpenAI SDK', () => {
  let stack: TestStack;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startStack();
    key = (await sdkTenant(stack)).key;
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(() => stack.close());

  describe.each(CHAT_KINDS)('$kind kind ($model)', ({ kind, model }) => {
    it('answers a plain chat with the echoed prompt, usage, the alias as model, and cost headers', async () => {
      const { data, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'What is the capital of France today?' }] })
        .withResponse();
      expect(specErrors('CreateChatCompletionResponse', data)).toEqual([]);
      expect(lastUpstream(stack).provider).toBe(kind);
      expect(data.object).toBe('chat.completion');
      expect(data.model).toBe(model);
      expect(data.choices).toHaveLength(1);
      expect(data.choices[0].message.role).toBe('assistant');
      expect(data.choices[0].message.content).toMatch(/^Demo reply to "What is the capital of": alpha bravo/);
      expect(data.choices[0].message.content!.split(' ')).toHaveLength(12);
      expect(data.choices[0].finish_reason).toBe('stop');
      const usage = data.usage!;
      expect(usage.prompt_tokens).toBeGreaterThan(0);
      expect(usage.completion_tokens).toBe(12);
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);

      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(response.headers.get('x-model-used')).toBe(model);
      const credits = response.headers.get('x-credits-used')!;
      expect(credits).toMatch(/^\d+\.\d+$/);
      const price = PRICE_NANOS_PER_TOKEN[model];
      // exact metering: list price x the tokens the upstream reported
      expect(nanos(credits)).toBe(
        price.input * BigInt(usage.prompt_tokens) + price.output * BigInt(usage.completion_tokens),
      );
    });

    it('streams: role first, word deltas, a finish_reason chunk, no usage chunk unless asked, and the iterator ends', async () => {
      const { data: stream, response } = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: 'Stream me a short answer' }], stream: true })
        .withResponse();
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.headers.get('x-model-used')).toBe(model);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      const chunks = await collect(stream);
      expectValidChunks(chunks);
      // one completion: every chunk carries the same id and created
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
      expect(lastUpstream(stack).provider).toBe(kind);
      expect(chunks[0].choices[0].delta.role).toBe('assistant');
      const contentChunks = chunks.filter((c) => (c.choices[0]?.delta?.content ?? '') !== '');
      expect(contentChunks.length).toBeGreaterThan(1);
      expect(contentOf(chunks)).toMatch(/^Demo reply to "Stream me a short answer": alpha/);
      for (const c of chunks) {
        expect(c.object).toBe('chat.completion.chunk');
        expect(c.model).toBe(model);
      }
      const finishing = chunks.filter((c) => c.choices[0]?.finish_reason);
      expect(finishing).toHaveLength(1);
      expect(finishing[0].choices[0].finish_reason).toBe('stop');
      expect(chunks.some((c) => c.usage)).toBe(false);
      expect(chunks.every((c) => c.choices.length === 1)).toBe(true);

      // on the wire the stream ends with OpenAI's terminator, which is what ends the SDK's iterator
      const raw = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: 'Stream me a short answer' }],
          stream: true,
        }),
      });
      const text = await raw.text();
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(text.match(/data: \[DONE\]/g)).toHaveLength(1);
      // the client did not ask for usage: no chunk carries the field, not even as null (as OpenAI sends them)
      const wire = text
        .split('\n\n')
        .filter((f) => f.startsWith('data: {'))
        .map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>);
      expect(wire.length).toBeGreaterThan(2);
      for (const c of wire) {
        expect(specErrors('CreateChatCompletionStreamResponse', c)).toEqual([]);
        expect(c).not.toHaveProperty('usage');
      }
    });

    it('streams the same text as the JSON answer, and a final usage chunk with its cost when include_usage is set', async () => {
      const messages = [{ role: 'user' as const, content: 'Count the words in this sentence please' }];
      const json = await client.chat.completions.create({ model, messages });
      const chunks = await collect(
        await client.chat.completions.create({
          model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      expectValidChunks(chunks);
      expect(contentOf(chunks)).toBe(json.choices[0].message.content);
      const last = chunks.at(-1)!;
      expect(last.choices).toEqual([]);
      const usage = last.usage as (OpenAI.CompletionUsage & { cost?: string }) | undefined;
      expect(usage).toBeDefined();
      expect(usage!.prompt_tokens).toBe(json.usage!.prompt_tokens);
      expect(usage!.completion_tokens).toBe(12);
      expect(usage!.total_tokens).toBe(usage!.prompt_tokens + 12);
      expect(usage!.cost).toMatch(/^\d+\.\d+$/);
      const price = PRICE_NANOS_PER_TOKEN[model];
      expect(nanos(usage!.cost!)).toBe(price.input * BigInt(usage!.prompt_tokens) + price.output * 12n);
      // only the last chunk carries usage
      expect(chunks.slice(0, -1).every((c) => c.usage == null)).toBe(true);
      expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    });

    it('meters with the real tokenizer when the upstream reports no usage: nonzero usage and charge', async () => {
      const messages = [{ role: 'user' as const, content: 'Answer without usage please [[demo: no_usage]]' }];
      const price = PRICE_NANOS_PER_TOKEN[model];
      const { data, response } = await client.chat.completions.create({ model, messages }).withResponse();
      expect(specErrors('CreateChatCompletionResponse', data)).toEqual([]);
      expect(lastUpstream(stack).knobs.no_usage).toBe(true);
      const usage = data.usage!;
      expect(usage.prompt_tokens).toBeGreaterThan(0);
      expect(usage.completion_tokens).toBeGreaterThan(0);
      const credits = nanos(response.headers.get('x-credits-used')!);
      expect(credits).toBeGreaterThan(0n);
      expect(credits).toBe(price.input * BigInt(usage.prompt_tokens) + price.output * BigInt(usage.completion_tokens));

      const chunks = await collect(
        await client.chat.completions.create({
          model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      expectValidChunks(chunks);
      expect(contentOf(chunks)).toBe(data.choices[0].message.content);
      const streamed = chunks.at(-1)!.usage as OpenAI.CompletionUsage & { cost: string };
      expect(streamed.prompt_tokens).toBe(usage.prompt_tokens);
      expect(streamed.completion_tokens).toBeGreaterThan(0);
      expect(nanos(streamed.cost)).toBeGreaterThan(0n);
    });

    it("assembles the final completion with the SDK's stream helper (text, then tool calls)", async () => {
      const text = client.chat.completions.stream({
        model,
        messages: [{ role: 'user', content: 'Stream me a short answer' }],
      });
      const deltas: string[] = [];
      text.on('content.delta', (e) => deltas.push(e.delta));
      const final = await text.finalChatCompletion();
      expect(final.choices[0].message.content).toMatch(/^Demo reply to "Stream me a short answer": alpha/);
      expect(deltas.join('')).toBe(final.choices[0].message.content);
      expect(final.choices[0].finish_reason).toBe('stop');

      const tools = client.chat.completions.stream({
        model,
        messages: [{ role: 'user', content: 'Weather in Rome?' }],
        tools: [WEATHER],
      });
      const done: string[] = [];
      tools.on('tool_calls.function.arguments.done', (e) => done.push(e.arguments));
      const withTools = await tools.finalChatCompletion();
      expect(withTools.choices[0].finish_reason).toBe('tool_calls');
      const call = withTools.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'demo', unit: 'celsius' });
      expect(done.map((a) => JSON.parse(a))).toEqual([{ city: 'demo', unit: 'celsius' }]);
    });

    it('calls a tool with JSON arguments the SDK parses, then answers from the tool result', async () => {
      const question = { role: 'user' as const, content: 'What is the weather in Paris?' };
      const r = await client.chat.completions.create({
        model,
        messages: [question],
        tools: [WEATHER],
        tool_choice: 'auto',
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('tool_calls');
      const calls = r.choices[0].message.tool_calls!;
      expect(calls).toHaveLength(1);
      const call = calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.type).toBe('function');
      expect(call.id).toBeTruthy();
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'demo', unit: 'celsius' });

      // the SDK's own parser: strict tools come back with parsed_arguments
      const parsed = await client.chat.completions.parse({
        model,
        messages: [question],
        tools: [{ ...WEATHER, function: { ...WEATHER.function, strict: true } }],
      });
      const pc = parsed.choices[0].message.tool_calls![0] as ParsedFunctionToolCall;
      expect(pc.function.parsed_arguments).toEqual({ city: 'demo', unit: 'celsius' });

      const followUp = await client.chat.completions.create({
        model,
        tools: [WEATHER],
        messages: [
          question,
          r.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: '{"temperature":21,"sky":"clear"}' },
        ],
      });
      expect(specErrors('CreateChatCompletionResponse', followUp)).toEqual([]);
      expect(followUp.choices[0].finish_reason).toBe('stop');
      expect(followUp.choices[0].message.tool_calls ?? []).toEqual([]);
      expect(followUp.choices[0].message.content).toContain('Tool result received: {"temperature":21,"sky":"clear"}');
    });

    it('makes parallel tool calls when asked to use two tools in parallel', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Check weather and time in parallel for Tokyo' }],
        tools: [WEATHER, TIME],
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('tool_calls');
      const calls = r.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
      expect(calls.map((c) => c.function.name)).toEqual(['get_weather', 'get_time']);
      expect(new Set(calls.map((c) => c.id)).size).toBe(2);
      expect(JSON.parse(calls[1].function.arguments)).toEqual({ city: 'demo', hours_ahead: 3 });
    });

    it('streams tool calls whose deltas accumulate by index into complete calls', async () => {
      const chunks = await collect(
        await client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Check weather and time in parallel for Oslo' }],
          tools: [WEATHER, TIME],
          stream: true,
        }),
      );
      expectValidChunks(chunks);
      const acc = new Map<number, { id?: string; name: string; args: string }>();
      for (const c of chunks) {
        for (const d of c.choices[0]?.delta?.tool_calls ?? []) {
          const cur = acc.get(d.index) ?? { name: '', args: '' };
          if (d.id) cur.id = d.id;
          cur.name += d.function?.name ?? '';
          cur.args += d.function?.arguments ?? '';
          acc.set(d.index, cur);
        }
      }
      expect([...acc.keys()].sort()).toEqual([0, 1]);
      expect(acc.get(0)!.name).toBe('get_weather');
      expect(acc.get(1)!.name).toBe('get_time');
      expect(acc.get(0)!.id).toBeTruthy();
      expect(acc.get(1)!.id).toBeTruthy();
      expect(acc.get(0)!.id).not.toBe(acc.get(1)!.id);
      expect(JSON.parse(acc.get(0)!.args)).toEqual({ city: 'demo', unit: 'celsius' });
      expect(JSON.parse(acc.get(1)!.args)).toEqual({ city: 'demo', hours_ahead: 3 });
      expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual([
        'tool_calls',
      ]);
    });

    it('forces a tool call with tool_choice required', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Tell me anything you like' }],
        tools: [WEATHER, TIME],
        tool_choice: 'required',
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('tool_calls');
      expect(r.choices[0].message.tool_calls!.length).toBeGreaterThanOrEqual(1);
      const body = lastUpstream(stack).body;
      if (kind === 'openai') expect(body.tool_choice).toBe('required');
      if (kind === 'anthropic') expect(body.tool_choice).toMatchObject({ type: 'any' });
      if (kind === 'gemini') expect(body.toolConfig.functionCallingConfig).toEqual({ mode: 'ANY' });
    });

    it('calls the function tool_choice names, not the first one', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'What should I know about Rome?' }],
        tools: [WEATHER, TIME],
        tool_choice: { type: 'function', function: { name: 'get_time' } },
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      const calls = r.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
      expect(calls.map((c) => c.function.name)).toEqual(['get_time']);
      expect(JSON.parse(calls[0].function.arguments)).toEqual({ city: 'demo', hours_ahead: 3 });
      const body = lastUpstream(stack).body;
      if (kind === 'anthropic') expect(body.tool_choice).toMatchObject({ type: 'tool', name: 'get_time' });
      if (kind === 'gemini')
        expect(body.toolConfig.functionCallingConfig).toEqual({ mode: 'ANY', allowedFunctionNames: ['get_time'] });
    });

    it('answers in text with tool_choice none although tools are offered', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [WEATHER],
        tool_choice: 'none',
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(r.choices[0].message.tool_calls ?? []).toEqual([]);
      expect(r.choices[0].message.content).toMatch(/^Demo reply to "What is the weather in":/);
      const body = lastUpstream(stack).body;
      if (kind === 'openai') expect(body.tool_choice).toBe('none');
      if (kind === 'anthropic') expect(body.tool_choice).toEqual({ type: 'none' });
      if (kind === 'gemini') expect(body.toolConfig.functionCallingConfig).toEqual({ mode: 'NONE' });
    });

    it('makes one tool call with parallel_tool_calls false, even when asked for two in parallel', async () => {
      const messages = [{ role: 'user' as const, content: 'Check weather and time in parallel for Lima' }];
      const r = await client.chat.completions.create({
        model,
        messages,
        tools: [WEATHER, TIME],
        parallel_tool_calls: false,
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('tool_calls');
      const calls = r.choices[0].message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
      expect(calls.map((c) => c.function.name)).toEqual(['get_weather']);
      const body = lastUpstream(stack).body;
      if (kind === 'openai') expect(body.parallel_tool_calls).toBe(false);
      if (kind === 'anthropic') expect(body.tool_choice).toMatchObject({ disable_parallel_tool_use: true });

      const chunks = await collect(
        await client.chat.completions.create({
          model,
          messages,
          tools: [WEATHER, TIME],
          parallel_tool_calls: false,
          stream: true,
        }),
      );
      expectValidChunks(chunks);
      const indexes = new Set(chunks.flatMap((c) => (c.choices[0]?.delta?.tool_calls ?? []).map((d) => d.index)));
      expect([...indexes]).toEqual([0]);
    });

    it('answers valid JSON in json_object mode', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Reply in JSON about cats and dogs' }],
        response_format: { type: 'json_object' },
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('stop');
      const obj = JSON.parse(r.choices[0].message.content!);
      expect(typeof obj).toBe('object');
      expect(Array.isArray(obj)).toBe(false);
      expect(obj).not.toBeNull();
    });

    it('answers JSON with the required keys in json_schema mode, parsed by the SDK', async () => {
      const schema = {
        type: 'object',
        properties: { city: { type: 'string' }, population: { type: 'integer' }, capital: { type: 'boolean' } },
        required: ['city', 'population', 'capital'],
        additionalProperties: false,
      };
      const r = await client.chat.completions.parse({
        model,
        messages: [{ role: 'user', content: 'Describe Lyon as JSON' }],
        response_format: { type: 'json_schema', json_schema: { name: 'city_info', schema, strict: true } },
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(r.choices[0].message.tool_calls ?? []).toEqual([]);
      const obj = JSON.parse(r.choices[0].message.content!);
      expect(Object.keys(obj).sort()).toEqual(['capital', 'city', 'population']);
      expect(typeof obj.city).toBe('string');
      expect(Number.isInteger(obj.population)).toBe(true);
      expect(typeof obj.capital).toBe('boolean');
      expect(r.choices[0].message.parsed).toEqual(obj);
    });

    it.each([
      ['json_object', { type: 'json_object' as const }],
      [
        'json_schema',
        {
          type: 'json_schema' as const,
          json_schema: {
            name: 'city_info',
            strict: true,
            schema: {
              type: 'object',
              properties: { city: { type: 'string' }, population: { type: 'integer' } },
              required: ['city', 'population'],
              additionalProperties: false,
            },
          },
        },
      ],
    ])('streams JSON mode (%s): the content deltas join into the JSON, no tool call shows', async (_label, format) => {
      const messages = [{ role: 'user' as const, content: 'Describe Lyon as JSON please' }];
      const json = await client.chat.completions.create({ model, messages, response_format: format });
      const chunks = await collect(
        await client.chat.completions.create({ model, messages, response_format: format, stream: true }),
      );
      expectValidChunks(chunks);
      const text = contentOf(chunks);
      expect(text).toBe(json.choices[0].message.content);
      const obj = JSON.parse(text) as Record<string, unknown>;
      expect(typeof obj).toBe('object');
      if (format.type === 'json_schema') expect(Object.keys(obj).sort()).toEqual(['city', 'population']);
      expect(chunks.some((c) => c.choices[0]?.delta?.tool_calls)).toBe(false);
      expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual([
        'stop',
      ]);
    });

    it.each([
      ['an http URL', 'https://example.com/cat.png'],
      ['a data URL', PNG_DATA_URL],
    ])('sees an image given as %s', async (_label, url) => {
      const r = await client.chat.completions.create({
        model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image_url', image_url: { url, detail: 'low' } },
            ],
          },
        ],
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].message.content).toContain('Demo reply to "What is in this picture?":');
      expect(r.choices[0].message.content).toContain('I see 1 image(s).');
      // an image costs 85 prompt tokens on the demo upstream: it reached the upstream as an image
      expect(r.usage!.prompt_tokens).toBeGreaterThan(85);
    });

    it('passes system and developer messages to the upstream as instructions', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: 'Answer in English.' },
          { role: 'user', content: 'Hello with instructions' },
        ],
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].message.content).toMatch(/^Demo reply to "Hello with instructions":/);
      const sent = JSON.stringify(lastUpstream(stack).body);
      expect(sent).toContain('You are terse.');
      expect(sent).toContain('Answer in English.');
      const body = lastUpstream(stack).body;
      if (kind === 'anthropic') expect(JSON.stringify(body.system)).toContain('You are terse.');
      if (kind === 'gemini') expect(JSON.stringify(body.systemInstruction)).toContain('Answer in English.');
      if (kind !== 'openai') expect(JSON.stringify(body.contents ?? body.messages)).not.toContain('You are terse.');
    });

    it('honours stop, temperature, top_p and seed', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Recite the alphabet' }],
        stop: ['charlie'],
        temperature: 0.5,
        top_p: 0.9,
        seed: 42,
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      const content = r.choices[0].message.content!;
      expect(content).toContain('alpha bravo');
      expect(content).not.toContain('charlie');
      expect(content).not.toContain('delta');
      expect(r.choices[0].finish_reason).toBe('stop');
      const body = lastUpstream(stack).body;
      if (kind === 'openai') expect(body).toMatchObject({ temperature: 0.5, top_p: 0.9, seed: 42, stop: ['charlie'] });
      if (kind === 'anthropic')
        expect(body).toMatchObject({ temperature: 0.5, top_p: 0.9, stop_sequences: ['charlie'] });
      if (kind === 'gemini')
        expect(body.generationConfig).toMatchObject({
          temperature: 0.5,
          topP: 0.9,
          seed: 42,
          stopSequences: ['charlie'],
        });
    });

    it('stops at max_tokens with finish_reason length', async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Tell me a long story' }],
        max_tokens: 3,
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('length');
      expect(r.choices[0].message.content).toBe('Demo reply to');
      expect(r.usage!.completion_tokens).toBe(3);
    });

    it("stops at max_completion_tokens, sent under the upstream's own name for it", async () => {
      const r = await client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Tell me a long story' }],
        max_completion_tokens: 3,
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].finish_reason).toBe('length');
      expect(r.choices[0].message.content).toBe('Demo reply to');
      const body = lastUpstream(stack).body;
      if (kind === 'openai') {
        expect(body.max_completion_tokens).toBe(3);
        expect(body).not.toHaveProperty('max_tokens');
      }
      if (kind === 'anthropic') expect(body.max_tokens).toBe(3);
      if (kind === 'gemini') expect(body.generationConfig.maxOutputTokens).toBe(3);
    });

    it('caps the output of a low balance, as max_completion_tokens on openai-kind routes (never max_tokens)', async () => {
      const poor = new OpenAI({
        baseURL: `${stack.url}/v1`,
        apiKey: (await sdkTenant(stack, '0.001')).key,
        maxRetries: 0,
      });
      const r = await poor.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Hello on a budget' }],
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      const body = lastUpstream(stack).body;
      // 0.001 pays for fewer output tokens than the model's maximum (16384 and up): the cap is set
      const cap: unknown =
        kind === 'openai'
          ? body.max_completion_tokens
          : kind === 'anthropic'
            ? body.max_tokens
            : body.generationConfig?.maxOutputTokens;
      expect(cap).toEqual(expect.any(Number));
      expect(cap as number).toBeGreaterThan(0);
      expect(cap as number).toBeLessThan(16384);
      if (kind === 'openai') expect(body).not.toHaveProperty('max_tokens');
    });

    it('stops a stream at max_tokens with finish_reason length', async () => {
      const chunks = await collect(
        await client.chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Tell me a long story' }],
          max_tokens: 3,
          stream: true,
        }),
      );
      expectValidChunks(chunks);
      expect(contentOf(chunks)).toBe('Demo reply to');
      expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].finish_reason)).toEqual([
        'length',
      ]);
    });
  });

  describe('n (several choices)', () => {
    it('returns two choices with n=2 on the openai kind', async () => {
      const r = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        n: 2,
        messages: [{ role: 'user', content: 'Give me two options' }],
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices.map((c) => c.index)).toEqual([0, 1]);
      expect(r.choices[0].message.content).toMatch(/^Demo reply to "Give me two options": alpha/);
      expect(r.choices[1].message.content).toMatch(/^Demo reply to "Give me two options": bravo/);
      expect(r.usage!.completion_tokens).toBe(24);
    });

    it('streams two interleaved choices with n=2 on the openai kind', async () => {
      const chunks = await collect(
        await client.chat.completions.create({
          model: 'gpt-4o-mini',
          n: 2,
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'Give me two options' }],
        }),
      );
      expectValidChunks(chunks);
      const text = (i: number) =>
        chunks.flatMap((c) => c.choices.filter((ch) => ch.index === i).map((ch) => ch.delta.content ?? '')).join('');
      expect(text(0)).toMatch(/^Demo reply to "Give me two options": alpha/);
      expect(text(1)).toMatch(/^Demo reply to "Give me two options": bravo/);
      const finishes = chunks.flatMap((c) =>
        c.choices.filter((ch) => ch.finish_reason).map((ch) => [ch.index, ch.finish_reason]),
      );
      expect(finishes.sort()).toEqual([
        [0, 'stop'],
        [1, 'stop'],
      ]);
      expect(chunks.at(-1)!.usage!.completion_tokens).toBe(24);
    });

    it('returns two choices with n=2 on the gemini kind (candidateCount), streamed too', async () => {
      const messages = [{ role: 'user' as const, content: 'Give me two options' }];
      const r = await client.chat.completions.create({ model: 'gemini-3-flash', n: 2, messages });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(lastUpstream(stack).body.generationConfig.candidateCount).toBe(2);
      expect(r.choices.map((c) => c.index)).toEqual([0, 1]);
      expect(r.choices[0].message.content).toMatch(/^Demo reply to "Give me two options": alpha/);
      expect(r.choices[1].message.content).toMatch(/^Demo reply to "Give me two options": bravo/);
      expect(r.usage!.completion_tokens).toBe(24);

      const chunks = await collect(
        await client.chat.completions.create({
          model: 'gemini-3-flash',
          n: 2,
          messages,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      expectValidChunks(chunks);
      const text = (i: number) =>
        chunks.flatMap((c) => c.choices.filter((ch) => ch.index === i).map((ch) => ch.delta.content ?? '')).join('');
      expect(text(0)).toBe(r.choices[0].message.content);
      expect(text(1)).toBe(r.choices[1].message.content);
      expect(chunks.at(-1)!.usage!.completion_tokens).toBe(24);
    });

    it('refuses n=2 with 400 bad_request naming n on a model whose route has supports_n false', async () => {
      const before = stack.upstream.requests.length;
      const e = await apiError(
        client.chat.completions.create({
          model: 'deepseek-v3.2',
          n: 2,
          messages: [{ role: 'user', content: 'Give me two options' }],
        }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({ code: 'bad_request', param: 'n' });
      expect(stack.upstream.requests.length).toBe(before);
    });

    it('refuses n=2 on the anthropic kind with 400 bad_request naming n', async () => {
      const before = stack.upstream.requests.length;
      const e = await apiError(
        client.chat.completions.create({
          model: 'claude-sonnet-4-6',
          n: 2,
          messages: [{ role: 'user', content: 'Give me two options' }],
        }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({
        code: 'bad_request',
        param: 'n',
        type: expect.any(String),
        message: expect.any(String),
      });
      expect(e.headers?.get('x-request-id')).toBeTruthy();
      expect(stack.upstream.requests.length).toBe(before);
    });
  });

  describe('what the seeds promise', () => {
    it('serves the same routes under /api/v1 (seed 003)', async () => {
      const api = new OpenAI({ baseURL: `${stack.url}/api/v1`, apiKey: key, maxRetries: 0 });
      const r = await api.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello from api v1' }],
        max_tokens: 1000,
      });
      expect(specErrors('CreateChatCompletionResponse', r)).toEqual([]);
      expect(r.choices[0].message.content).toMatch(/^Demo reply to "Hello from api v1":/);
      const chunks = await collect(
        await api.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Hello!' }],
          stream: true,
        }),
      );
      expect(contentOf(chunks)).toMatch(/^Demo reply to "Hello!":/);
    });

    it('accepts the key in x-api-key instead of Authorization (seed 002)', async () => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello with x-api-key' }] }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as OpenAI.ChatCompletion;
      expect(specErrors('CreateChatCompletionResponse', body)).toEqual([]);
      expect(body.choices[0].message.content).toMatch(/^Demo reply to "Hello with x-api-key":/);

      // the same through the SDK: no bearer token, the key as a default header
      const sdk = new OpenAI({
        baseURL: `${stack.url}/v1`,
        apiKey: 'unused',
        maxRetries: 0,
        defaultHeaders: { authorization: null, 'x-api-key': key },
      });
      const r = await sdk.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello via header' }],
      });
      expect(r.choices[0].message.content).toMatch(/^Demo reply to "Hello via header":/);
    });

    it('refuses a request without a key, and with a wrong key, in the OpenAI envelope', async () => {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'missing_authorization' });
      const bad = new OpenAI({
        baseURL: `${stack.url}/v1`,
        apiKey: 'sk-sy-notakeyatallnotakeyatallnotakey',
        maxRetries: 0,
      });
      const e = await apiError(
        bad.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(e.status).toBe(401);
      expect(e.code).toBe('invalid_api_key');
    });

    it('routes a provider/model alias (anthropic/claude-sonnet-4.6) and echoes it as model', async () => {
      const { data, response } = await client.chat.completions
        .create({
          model: 'anthropic/claude-sonnet-4.6',
          messages: [{ role: 'user', content: 'Hello through an alias' }],
        })
        .withResponse();
      expect(specErrors('CreateChatCompletionResponse', data)).toEqual([]);
      expect(data.model).toBe('anthropic/claude-sonnet-4.6');
      expect(response.headers.get('x-model-used')).toBe('claude-sonnet-4-6');
      expect(lastUpstream(stack).provider).toBe('anthropic');
      expect(lastUpstream(stack).body.model).toBe('claude-sonnet-4-6');
      expect(data.choices[0].message.content).toMatch(/^Demo reply to "Hello through an alias":/);
    });
  });
});
