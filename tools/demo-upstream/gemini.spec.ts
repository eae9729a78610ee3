import { startDemoUpstream } from './index';
import { postJson, sseJson } from './spec-helpers';
import type { DemoUpstream } from './types';

const KEY = { 'x-goog-api-key': 'gemini-demo-key' };
const tools = [
  {
    functionDeclarations: [
      {
        name: 'get_weather',
        parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] },
      },
      { name: 'get_time', parametersJsonSchema: { type: 'object', properties: { tz: { type: 'string' } } } },
    ],
  },
];
type Candidate = { content: { role: string; parts: Array<Record<string, any>> }; finishReason?: string; index: number };
type GenResponse = {
  candidates: Candidate[];
  usageMetadata?: Record<string, number>;
  modelVersion: string;
  responseId: string;
};

describe('demo upstream: Gemini format', () => {
  let up: DemoUpstream;
  const url = (method: string, model = 'gemini-2.5-flash') => `${up.url}/v1beta/models/${model}:${method}`;
  beforeAll(async () => {
    up = await startDemoUpstream();
  });
  afterAll(() => up.close());
  beforeEach(() => up.reset());

  const contents = [{ role: 'user', parts: [{ text: 'Hello Gemini, what is new?' }] }];
  const generate = (body: Record<string, unknown>, method = 'generateContent', headers: Record<string, string> = KEY) =>
    postJson(url(method), { contents, ...body }, headers);

  it('answers generateContent in the GenerateContentResponse shape', async () => {
    const res = await generate({ systemInstruction: { parts: [{ text: 'Be brief.' }] } });
    expect(res.status).toBe(200);
    const body = res.json() as GenResponse;
    expect(body.candidates).toEqual([
      {
        content: {
          role: 'model',
          parts: [{ text: expect.stringMatching(/^Demo reply to "Hello Gemini, what is new\?":/) }],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ]);
    expect(body.usageMetadata).toMatchObject({ candidatesTokenCount: 12 });
    expect(body.usageMetadata?.totalTokenCount).toBe((body.usageMetadata?.promptTokenCount ?? 0) + 12);
    expect(body.modelVersion).toBe('gemini-2.5-flash');
    expect(up.requests[0]).toMatchObject({ provider: 'gemini', headers: { 'x-goog-api-key': 'gemini-demo-key' } });
  });

  it('streams SSE chunks with no [DONE]; the last one carries finishReason and full usage', async () => {
    const res = await postJson(`${url('streamGenerateContent')}?alt=sse&key=query-key`, { contents }, {});
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    const chunks = sseJson<GenResponse>(res.text);
    expect(chunks).toHaveLength(12);
    expect(chunks.slice(0, -1).every((c) => c.candidates[0].finishReason === undefined)).toBe(true);
    expect(chunks.at(-1)?.candidates[0].finishReason).toBe('STOP');
    expect(chunks.at(-1)?.usageMetadata).toMatchObject({ candidatesTokenCount: 12 });
    expect(chunks[0].usageMetadata?.candidatesTokenCount).toBeUndefined();
    const text = chunks.map((c) => c.candidates[0].content.parts[0].text as string).join('');
    expect(text).toBe((await generate({})).json().candidates[0].content.parts[0].text);
    expect(up.requests[0].path).toContain('key=query-key');

    const array = await generate({}, 'streamGenerateContent');
    expect((JSON.parse(array.text) as GenResponse[]).map((c) => c.candidates[0].content.parts[0].text).join('')).toBe(
      text,
    );
  });

  it('calls functions: first, allowed, parallel, none', async () => {
    const first = (await generate({ tools })).json() as GenResponse;
    expect(first.candidates[0].content.parts).toEqual([
      { functionCall: { name: 'get_weather', args: { city: 'demo' } } },
    ]);
    expect(first.candidates[0].finishReason).toBe('STOP');

    const allowed = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } };
    const forced = (await generate({ tools, toolConfig: allowed })).json() as GenResponse;
    expect(forced.candidates[0].content.parts[0].functionCall.name).toBe('get_time');
    const none = (
      await generate({ tools, toolConfig: { functionCallingConfig: { mode: 'NONE' } } })
    ).json() as GenResponse;
    expect(none.candidates[0].content.parts[0].text).toBeDefined();

    const parallel = [{ role: 'user', parts: [{ text: 'Both please [[demo: parallel]]' }] }];
    const both = (await generate({ tools, contents: parallel })).json() as GenResponse;
    expect(both.candidates[0].content.parts.map((p) => p.functionCall.name)).toEqual(['get_weather', 'get_time']);
  });

  it('answers a functionResponse turn and counts inlineData as images', async () => {
    const turn = [
      { role: 'user', parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ];
    const reply = (await generate({ tools, contents: turn })).json() as GenResponse;
    expect(reply.candidates[0].content.parts[0].text).toMatch(/^Tool result received: \{"temp":21\}/);
    const image = (await generate({ contents: turn.slice(0, 1) })).json() as GenResponse;
    expect(image.candidates[0].content.parts[0].text).toContain('I see 1 image(s).');
  });

  it('answers JSON with a schema, truncates at maxOutputTokens, and gives candidateCount candidates', async () => {
    const responseSchema = {
      type: 'OBJECT',
      properties: { title: { type: 'STRING' }, tags: { type: 'ARRAY', items: { type: 'STRING' } } },
    };
    const json = (
      await generate({ generationConfig: { responseMimeType: 'application/json', responseSchema } })
    ).json();
    expect(JSON.parse(json.candidates[0].content.parts[0].text)).toEqual({ title: 'demo', tags: ['demo'] });
    const cut = (await generate({ generationConfig: { maxOutputTokens: 3 } })).json() as GenResponse;
    expect(cut.candidates[0]).toMatchObject({
      finishReason: 'MAX_TOKENS',
      content: { parts: [{ text: 'Demo reply to' }] },
    });
    const two = (await generate({ generation_config: { candidate_count: 2 } })).json() as GenResponse;
    expect(two.candidates.map((c) => c.index)).toEqual([0, 1]);
  });

  it('counts tokens and embeds, honouring outputDimensionality', async () => {
    const counted = (await generate({}, 'countTokens')).json();
    const usage = ((await generate({})).json() as GenResponse).usageMetadata;
    expect(counted.totalTokens).toBe(usage?.promptTokenCount);

    const one = await postJson(
      url('embedContent', 'gemini-embedding-001'),
      { content: { parts: [{ text: 'hi' }] } },
      KEY,
    );
    expect(one.json().embedding.values).toHaveLength(3072);
    const batch = await postJson(
      url('batchEmbedContents', 'gemini-embedding-001'),
      {
        requests: ['a', 'b'].map((text) => ({
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text }] },
          outputDimensionality: 8,
        })),
      },
      KEY,
    );
    expect(batch.json().embeddings.map((e: { values: number[] }) => e.values.length)).toEqual([8, 8]);
  });

  it('refuses a missing key and bad input in the Gemini error shape', async () => {
    const noKey = await generate({}, 'generateContent', {});
    expect(noKey.status).toBe(401);
    expect(noKey.json()).toEqual({ error: { code: 401, message: expect.any(String), status: 'UNAUTHENTICATED' } });
    const empty = await postJson(url('generateContent'), { contents: [] }, KEY);
    expect(empty.json().error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    const models = (await (await fetch(`${up.url}/v1beta/models`, { headers: KEY })).json()) as {
      models: Array<{ name: string }>;
    };
    expect(models.models[0].name).toMatch(/^models\//);
  });
});
