// /v1/embeddings and /v1/models through the official `openai` SDK: input shapes, float and base64,
// dimensions, multimodal blocks only for multimodal models, the model list with capabilities and
// pricing, and model_not_found for unknown ids on every surface.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { AdminClient, createTenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';
import { lastUpstream, nanos, plain, PRICE_NANOS_PER_TOKEN, sdkTenant, specErrors } from './helpers/sdk-setup';

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const CATALOG_IDS = [
  'gpt-4o',
  'gpt-4o-mini',
  'claude-opus-4-7',
  'claude-sonnet-4-6',
  'claude-haiku-4-5',
  'gemini-3-pro',
  'gemini-3-flash',
  'deepseek-v3.2',
  'text-embedding-3-small',
  'text-embedding-3-large',
  'qwen3-vl-embedding-8b',
];

async function apiError(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenAI.APIError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

describe('embeddings and models through the OpenAI SDK', () => {
  let stack: TestStack;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    stack = await startStack();
    key = (await sdkTenant(stack)).key;
    client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });
  });
  afterAll(() => stack.close());

  describe('embeddings', () => {
    it('embeds a string: one unit vector of the model size, usage, the alias as model, cost headers', async () => {
      const { data, response } = await client.embeddings
        .create({ model: 'text-embedding-3-small', input: 'The quick brown fox', encoding_format: 'float' })
        .withResponse();
      expect(specErrors('CreateEmbeddingResponse', data)).toEqual([]);
      expect(lastUpstream(stack).provider).toBe('openai');
      expect(data.object).toBe('list');
      expect(data.model).toBe('text-embedding-3-small');
      expect(data.data).toHaveLength(1);
      expect(data.data[0]).toMatchObject({ object: 'embedding', index: 0 });
      expect(data.data[0].embedding).toHaveLength(1536);
      expect(norm(data.data[0].embedding)).toBeCloseTo(1, 4);
      expect(data.usage.prompt_tokens).toBeGreaterThan(0);
      expect(data.usage.total_tokens).toBe(data.usage.prompt_tokens);
      expect(response.headers.get('x-request-id')).toBeTruthy();
      expect(response.headers.get('x-model-used')).toBe('text-embedding-3-small');
      expect(nanos(response.headers.get('x-credits-used')!)).toBe(
        PRICE_NANOS_PER_TOKEN['text-embedding-3-small'].input * BigInt(data.usage.prompt_tokens),
      );
    });

    it('embeds an array: one vector per input, in order, each the same as embedding it alone', async () => {
      const inputs = ['first input', 'second input', 'third input'];
      const r = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: inputs,
        encoding_format: 'float',
      });
      expect(specErrors('CreateEmbeddingResponse', r)).toEqual([]);
      expect(r.data.map((d) => d.index)).toEqual([0, 1, 2]);
      for (const d of r.data) expect(d.embedding).toHaveLength(1536);
      expect(r.data[0].embedding).not.toEqual(r.data[1].embedding);
      const alone = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: inputs[1],
        encoding_format: 'float',
      });
      expect(r.data[1].embedding).toEqual(alone.data[0].embedding);
    });

    it('answers base64 as little-endian float32 bytes of the same vector', async () => {
      const input = 'The quick brown fox';
      const floats = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input,
        encoding_format: 'float',
      });
      const raw = await client.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'base64' });
      const b64 = raw.data[0].embedding as unknown as string;
      expect(typeof b64).toBe('string');
      const bytes = Buffer.from(b64, 'base64');
      expect(bytes.length).toBe(1536 * 4);
      const vector = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      expect(vector).toHaveLength(1536);
      expect(norm(vector)).toBeCloseTo(1, 4);
      for (const i of [0, 1, 767, 1535]) expect(vector[i]).toBeCloseTo(floats.data[0].embedding[i], 6);
      // the spec types embedding as numbers only; everything else about the envelope must hold
      expect(
        specErrors('CreateEmbeddingResponse', { ...plain(raw), data: [{ ...raw.data[0], embedding: [] }] }),
      ).toEqual([]);
    });

    it("decodes the SDK's default request (it asks for base64 and decodes it itself)", async () => {
      const input = 'The quick brown fox';
      const floats = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input,
        encoding_format: 'float',
      });
      const dflt = await client.embeddings.create({ model: 'text-embedding-3-small', input });
      expect(dflt.data[0].embedding).toHaveLength(1536);
      expect(dflt.data[0].embedding[0]).toBeCloseTo(floats.data[0].embedding[0], 6);
      expect(dflt.data[0].embedding[1535]).toBeCloseTo(floats.data[0].embedding[1535], 6);
    });

    it('shortens vectors to dimensions: 256', async () => {
      const r = await client.embeddings.create({
        model: 'text-embedding-3-small',
        input: 'short please',
        dimensions: 256,
        encoding_format: 'float',
      });
      expect(specErrors('CreateEmbeddingResponse', r)).toEqual([]);
      expect(r.data[0].embedding).toHaveLength(256);
      expect(norm(r.data[0].embedding)).toBeCloseTo(1, 4);
      expect(lastUpstream(stack).body.dimensions).toBe(256);
    });

    it('echoes the alias sent as model (provider/model id), not the upstream id', async () => {
      const r = await client.embeddings.create({
        model: 'openai/text-embedding-3-small',
        input: 'alias',
        encoding_format: 'float',
      });
      expect(r.model).toBe('openai/text-embedding-3-small');
      expect(lastUpstream(stack).body.model).toBe('text-embedding-3-small');

      const q = await client.embeddings.create({
        model: 'qwen3-vl-embedding-8b',
        input: 'alias',
        encoding_format: 'float',
      });
      expect(q.model).toBe('qwen3-vl-embedding-8b');
      expect(lastUpstream(stack).body.model).toBe('Qwen/Qwen3-VL-Embedding-8B');
    });

    it('embeds text with the multimodal qwen3-vl-embedding-8b (768 dimensions)', async () => {
      const r = await client.embeddings.create({
        model: 'qwen3-vl-embedding-8b',
        input: ['a photo of a cat', 'a photo of a dog'],
        encoding_format: 'float',
      });
      expect(specErrors('CreateEmbeddingResponse', r)).toEqual([]);
      expect(r.data).toHaveLength(2);
      expect(r.data[0].embedding).toHaveLength(768);
    });

    it('accepts image blocks for the multimodal qwen3-vl-embedding-8b', async () => {
      const block = { type: 'image_url', image_url: { url: PNG_DATA_URL } };
      const r = await client.embeddings.create({
        model: 'qwen3-vl-embedding-8b',
        input: [block] as unknown as string[],
        encoding_format: 'float',
      });
      expect(specErrors('CreateEmbeddingResponse', r)).toEqual([]);
      expect(r.data).toHaveLength(1);
      expect(r.data[0].embedding).toHaveLength(768);
      expect(lastUpstream(stack).body.input).toEqual([block]);
    });

    it('refuses image blocks for the text-only text-embedding-3-small with 400 bad_request, before the upstream', async () => {
      const before = stack.upstream.requests.length;
      const e = await apiError(
        client.embeddings.create({
          model: 'text-embedding-3-small',
          input: [{ type: 'image_url', image_url: { url: PNG_DATA_URL } }] as unknown as string[],
          encoding_format: 'float',
        }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({ code: 'bad_request', param: 'input' });
      expect(stack.upstream.requests.length).toBe(before);
    });

    it('refuses a chat model on /v1/embeddings with 400 bad_request naming model', async () => {
      const e = await apiError(
        client.embeddings.create({ model: 'gpt-4o-mini', input: 'hello', encoding_format: 'float' }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({ code: 'bad_request', param: 'model' });
    });

    it('serves embeddings under /api/v1 too (seed 003)', async () => {
      const api = new OpenAI({ baseURL: `${stack.url}/api/v1`, apiKey: key, maxRetries: 0 });
      const r = await api.embeddings.create({
        model: 'text-embedding-3-small',
        input: 'Hello world',
        encoding_format: 'float',
      });
      expect(r.data[0].embedding).toHaveLength(1536);
    });
  });

  describe('models', () => {
    it('lists every catalog model in the OpenAI list shape, with capabilities and pricing', async () => {
      const body = (await (await client.models.list().asResponse()).json()) as { object: string };
      expect(specErrors('ListModelsResponse', body)).toEqual([]);
      expect(body.object).toBe('list');
      const page = await client.models.list();
      const models = page.data as Array<
        OpenAI.Model & { capabilities: Record<string, unknown>; pricing: Record<string, string> }
      >;
      const ids = models.map((m) => m.id);
      for (const id of CATALOG_IDS) expect(ids).toContain(id);
      for (const m of models) {
        expect(m.object).toBe('model');
        expect(typeof m.created).toBe('number');
        expect(typeof m.owned_by).toBe('string');
        expect(typeof m.capabilities.kind).toBe('string');
        expect(m.pricing.currency).toBe('USD');
      }
      const byId = new Map(models.map((m) => [m.id, m]));
      expect(byId.get('gpt-4o-mini')).toMatchObject({
        owned_by: 'openai',
        capabilities: {
          kind: 'chat',
          vision: true,
          tools: true,
          json_mode: true,
          context_length: 128000,
          max_output_tokens: 16384,
        },
        pricing: { input_per_mtok: '0.15', output_per_mtok: '0.60', cached_input_per_mtok: '0.075' },
      });
      expect(byId.get('gemini-3-flash')!.capabilities).toMatchObject({ kind: 'chat', audio_input: true });
      expect(byId.get('deepseek-v3.2')!.capabilities).toMatchObject({ kind: 'chat', vision: false });
      expect(byId.get('text-embedding-3-small')).toMatchObject({
        capabilities: { kind: 'embedding', dimensions: 1536, multimodal: false },
        pricing: { input_per_mtok: '0.02' },
      });
      expect(byId.get('text-embedding-3-large')!.capabilities).toMatchObject({
        kind: 'embedding',
        dimensions: 3072,
        multimodal: false,
      });
      expect(byId.get('qwen3-vl-embedding-8b')).toMatchObject({
        owned_by: 'self-hosted-qwen',
        capabilities: { kind: 'embedding', dimensions: 768, multimodal: true },
        pricing: { input_per_mtok: '0.05' },
      });
    });

    it('retrieves one model', async () => {
      expect(specErrors('Model', await (await client.models.retrieve('gpt-4o-mini').asResponse()).json())).toEqual([]);
      const m = await client.models.retrieve('gpt-4o-mini');
      expect(m).toMatchObject({ id: 'gpt-4o-mini', object: 'model', owned_by: 'openai' });
      expect((m as unknown as { capabilities: Record<string, unknown> }).capabilities).toMatchObject({
        kind: 'chat',
        tools: true,
      });
      expect((m as unknown as { pricing: Record<string, string> }).pricing).toMatchObject({ input_per_mtok: '0.15' });
    });

    it('retrieves a model by its provider/model alias', async () => {
      const m = await client.models.retrieve('anthropic/claude-sonnet-4.6');
      expect(m.object).toBe('model');
      expect((m as unknown as { capabilities: Record<string, unknown> }).capabilities).toMatchObject({ kind: 'chat' });
      expect(m.owned_by).toBe('anthropic');
    });

    it("lists only the models a key's allowlist permits, and refuses the others with 403", async () => {
      const admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const t = await createTenant(admin, { key: { allowlist: ['gpt-4o-mini', 'text-embedding-3-small'] } });
      const limited = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: t.key, maxRetries: 0 });
      const page = await limited.models.list();
      expect(page.data.map((m) => m.id).sort()).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
      const e = await apiError(limited.models.retrieve('gpt-4o'));
      expect(e.status).toBe(403);
      expect(e.code).toBe('model_not_allowed');
    });
  });

  describe('unknown model ids give 400 model_not_found on every surface', () => {
    it('on chat completions', async () => {
      const e = await apiError(
        client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({
        code: 'model_not_found',
        param: 'model',
        type: expect.any(String),
        message: expect.stringContaining('no-such-model'),
      });
    });

    it('on streamed chat completions, before any chunk', async () => {
      const e = await apiError(
        client.chat.completions.create({
          model: 'no-such-model',
          messages: [{ role: 'user', content: 'Hi' }],
          stream: true,
        }),
      );
      expect(e.status).toBe(400);
      expect(e.code).toBe('model_not_found');
    });

    it('on embeddings', async () => {
      const e = await apiError(
        client.embeddings.create({ model: 'no-such-embedder', input: 'Hi', encoding_format: 'float' }),
      );
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    });

    it('on messages (in the Anthropic envelope)', async () => {
      const anthropic = new Anthropic({ baseURL: stack.url, apiKey: key, maxRetries: 0 });
      let err: InstanceType<typeof Anthropic.APIError> | undefined;
      try {
        await anthropic.messages.create({
          model: 'no-such-model',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'Hi' }],
        });
      } catch (e) {
        if (e instanceof Anthropic.APIError) err = e;
        else throw e;
      }
      expect(err?.status).toBe(400);
      expect(err?.error).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining('no-such-model') },
      });
    });

    it('on models retrieve', async () => {
      const e = await apiError(client.models.retrieve('no-such-model'));
      expect(e.status).toBe(400);
      expect(e.error).toMatchObject({ code: 'model_not_found', message: expect.stringContaining('no-such-model') });
    });
  });
});
