// The Vercel AI SDK (v6) with @ai-sdk/openai-compatible pointed at Switchyard's /v1, for each upstream
// kind: text, streams, tool loops, structured output, embeddings. This is also what OpenCode runs when
// configured as in seed 002 (npm "@ai-sdk/openai-compatible", options.baseURL ".../v1").
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embed, embedMany, generateText, Output, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { startStack, TestStack } from './helpers/test-stack';
import { CHAT_KINDS, lastUpstream, sdkTenant } from './helpers/sdk-setup';

function weatherTool(calls: unknown[]) {
  return tool({
    description: 'Current weather in a city',
    inputSchema: z.object({ city: z.string().describe('city name'), unit: z.enum(['celsius', 'fahrenheit']) }),
    execute: async (input) => {
      calls.push(input);
      return { temperature: 21, sky: 'clear' };
    },
  });
}

/** A fetch that records the JSON bodies the AI SDK sends to Switchyard. */
function recordingFetch(sent: any[]): typeof fetch {
  return (input, init) => {
    if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
    return fetch(input, init);
  };
}

/** How the upstream request of each kind carries JSON mode (the gateway translates response_format). */
function upstreamJsonMode(kind: string, body: any): 'schema' | 'json' | 'none' {
  if (kind === 'openai')
    return body.response_format?.type === 'json_schema'
      ? 'schema'
      : body.response_format?.type === 'json_object'
        ? 'json'
        : 'none';
  if (kind === 'anthropic') {
    const t = (body.tools ?? []).find((x: { name: string }) => x.name === 'switchyard_json_response');
    if (!t) return 'none';
    return Object.keys(t.input_schema?.properties ?? {}).length ? 'schema' : 'json';
  }
  const c = body.generationConfig ?? {};
  if (c.responseMimeType !== 'application/json') return 'none';
  return c.responseJsonSchema || c.responseSchema ? 'schema' : 'json';
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

describe('Vercel AI SDK through @ai-sdk/openai-compatible', () => {
  let stack: TestStack;
  let key: string;
  let switchyard: ReturnType<typeof createOpenAICompatible>;

  beforeAll(async () => {
    stack = await startStack();
    key = (await sdkTenant(stack)).key;
    switchyard = createOpenAICompatible({ name: 'switchyard', baseURL: `${stack.url}/v1`, apiKey: key });
  });
  afterAll(() => stack.close());

  describe.each(CHAT_KINDS)('$kind kind ($model)', ({ kind, model }) => {
    it('generateText: the echoed prompt, stop, usage and the response headers', async () => {
      const r = await generateText({
        model: switchyard(model),
        prompt: 'What is the capital of France today?',
        maxRetries: 0,
      });
      expect(lastUpstream(stack).provider).toBe(kind);
      expect(r.text).toMatch(/^Demo reply to "What is the capital of": alpha bravo/);
      expect(r.finishReason).toBe('stop');
      expect(r.usage.inputTokens).toBeGreaterThan(0);
      expect(r.usage.outputTokens).toBe(12);
      expect(r.response.modelId).toBe(model);
      expect(r.response.headers?.['x-model-used']).toBe(model);
      expect(Number(r.response.headers?.['x-credits-used'])).toBeGreaterThan(0);
    });

    it('streamText: textStream adds up to the generated text; usage arrives with includeUsage', async () => {
      const prompt = 'Stream me a short answer';
      const json = await generateText({ model: switchyard(model), prompt, maxRetries: 0 });
      const sent: any[] = [];
      const withUsage = createOpenAICompatible({
        name: 'switchyard',
        baseURL: `${stack.url}/v1`,
        apiKey: key,
        includeUsage: true,
        fetch: recordingFetch(sent),
      });
      const result = streamText({ model: withUsage(model), prompt, maxRetries: 0 });
      const parts: string[] = [];
      for await (const t of result.textStream) parts.push(t);
      expect(sent[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      expect(parts.length).toBeGreaterThan(1);
      expect(parts.join('')).toBe(json.text);
      expect(await result.finishReason).toBe('stop');
      const usage = await result.usage;
      expect(usage.outputTokens).toBe(12);
      expect(usage.inputTokens).toBe(json.usage.inputTokens);
    });

    it('runs a zod-described tool and answers from its result (generateText, multi-step)', async () => {
      const calls: unknown[] = [];
      const r = await generateText({
        model: switchyard(model),
        tools: { get_weather: weatherTool(calls) },
        stopWhen: stepCountIs(3),
        prompt: 'What is the weather in Paris?',
        maxRetries: 0,
      });
      expect(calls).toEqual([{ city: 'demo', unit: 'celsius' }]);
      expect(r.steps).toHaveLength(2);
      expect(r.steps[0].finishReason).toBe('tool-calls');
      expect(r.steps[0].toolCalls.map((c) => [c.toolName, c.input])).toEqual([
        ['get_weather', { city: 'demo', unit: 'celsius' }],
      ]);
      expect(r.steps[0].toolResults[0].output).toEqual({ temperature: 21, sky: 'clear' });
      expect(r.finishReason).toBe('stop');
      expect(r.text).toMatch(/^Tool result received: /);
      expect(r.text).toContain('"temperature":21');
    });

    it('streams tool calls (streamText, multi-step) to the same tool loop', async () => {
      const calls: unknown[] = [];
      const result = streamText({
        model: switchyard(model),
        tools: { get_weather: weatherTool(calls) },
        stopWhen: stepCountIs(3),
        prompt: 'Weather in Rome, please',
        maxRetries: 0,
      });
      let text = '';
      for await (const t of result.textStream) text += t;
      expect(calls).toEqual([{ city: 'demo', unit: 'celsius' }]);
      expect((await result.steps).map((s) => s.finishReason)).toEqual(['tool-calls', 'stop']);
      expect(text).toMatch(/^Tool result received: /);
    });

    it('produces a schema-checked object with Output.object (json_schema)', async () => {
      const sent: any[] = [];
      const structured = createOpenAICompatible({
        name: 'switchyard',
        baseURL: `${stack.url}/v1`,
        apiKey: key,
        supportsStructuredOutputs: true,
        fetch: recordingFetch(sent),
      });
      const r = await generateText({
        model: structured(model),
        output: Output.object({
          schema: z.object({ city: z.string(), population: z.number().int(), capital: z.boolean() }),
        }),
        prompt: 'Describe Lyon',
        maxRetries: 0,
      });
      expect(sent[0].response_format.type).toBe('json_schema');
      expect(upstreamJsonMode(kind, lastUpstream(stack).body)).toBe('schema');
      expect(r.output).toEqual({
        city: expect.any(String),
        population: expect.any(Number),
        capital: expect.any(Boolean),
      });
    });

    it('answers JSON in JSON mode (Output.json, json_object)', async () => {
      const sent: any[] = [];
      const recorded = createOpenAICompatible({
        name: 'switchyard',
        baseURL: `${stack.url}/v1`,
        apiKey: key,
        fetch: recordingFetch(sent),
      });
      const r = await generateText({
        model: recorded(model),
        output: Output.json(),
        prompt: 'Reply in JSON about cats',
        maxRetries: 0,
      });
      expect(sent[0].response_format).toEqual({ type: 'json_object' });
      expect(upstreamJsonMode(kind, lastUpstream(stack).body)).toBe('json');
      expect(typeof r.output).toBe('object');
      expect(r.output).not.toBeNull();
      expect(JSON.parse(r.text)).toEqual(r.output);
    });
  });

  describe('embeddings', () => {
    it('embed: one unit-length vector of text-embedding-3-small size', async () => {
      const r = await embed({
        model: switchyard.embeddingModel('text-embedding-3-small'),
        value: 'The quick brown fox',
        maxRetries: 0,
      });
      expect(r.embedding).toHaveLength(1536);
      expect(norm(r.embedding)).toBeCloseTo(1, 4);
      expect(r.usage.tokens).toBeGreaterThan(0);
    });

    it('embedMany: one vector per value, in order, the same as embedding each alone', async () => {
      const values = ['The quick brown fox', 'jumps over', 'the lazy dog'];
      const r = await embedMany({ model: switchyard.embeddingModel('text-embedding-3-small'), values, maxRetries: 0 });
      expect(r.embeddings).toHaveLength(3);
      for (const e of r.embeddings) expect(e).toHaveLength(1536);
      expect(r.embeddings[0]).not.toEqual(r.embeddings[1]);
      const alone = await embed({
        model: switchyard.embeddingModel('text-embedding-3-small'),
        value: values[2],
        maxRetries: 0,
      });
      expect(r.embeddings[2]).toEqual(alone.embedding);
    });
  });

  describe('OpenCode provider config from seed 002 (npm @ai-sdk/openai-compatible, baseURL .../v1)', () => {
    // opencode.json: "provider": {"mira": {"npm": "@ai-sdk/openai-compatible", "options": {"baseURL", "apiKey"},
    // "models": {...}}}; OpenCode drives its agent loop with streamText and tools.
    const models = ['anthropic/claude-sonnet-4.5', 'anthropic/claude-haiku-4.5', 'google/gemini-3-flash'];

    it.each(models)('serves %s as configured, with a streamed tool loop', async (id) => {
      const mira = createOpenAICompatible({ name: 'mira', baseURL: `${stack.url}/v1`, apiKey: key });
      const calls: unknown[] = [];
      const result = streamText({
        model: mira(id),
        system: 'You are a coding agent.',
        tools: { get_weather: weatherTool(calls) },
        stopWhen: stepCountIs(4),
        messages: [{ role: 'user', content: 'Check the weather before we deploy' }],
        maxRetries: 0,
      });
      let text = '';
      for await (const t of result.textStream) text += t;
      expect(calls).toHaveLength(1);
      expect(text).toMatch(/^Tool result received: /);
      expect((await result.response).modelId).toBe(id);
      expect(lastUpstream(stack).provider).toBe(id.startsWith('google/') ? 'gemini' : 'anthropic');
    });
  });
});
