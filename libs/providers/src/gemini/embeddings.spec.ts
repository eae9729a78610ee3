import { AdapterRequestError } from '../errors';
import type { EmbeddingRequest } from '../types';
import { UpstreamMalformedError } from '../types';
import { floatsToBase64, geminiEmbeddings } from './embeddings';
import { fixture, target } from './test-util';

const meta = { model: 'text-embedding-alias' };

describe('gemini embeddings', () => {
  it('posts batchEmbedContents with one request per input and outputDimensionality', () => {
    const call = geminiEmbeddings.toUpstream(
      { model: 'alias', input: ['hello', 'world'], dimensions: 768 },
      target({ upstreamModel: 'gemini-embedding-001' }),
    );
    expect(call.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents',
    );
    expect(call.headers['x-goog-api-key']).toBe('test-gemini-key');
    expect(call.body).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello' }] }, outputDimensionality: 768 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'world' }] }, outputDimensionality: 768 },
      ],
    });
  });

  it('takes a single string', () => {
    const call = geminiEmbeddings.toUpstream({ model: 'alias', input: 'hello' }, target({ upstreamModel: 'e' }));
    expect(call.body).toEqual({ requests: [{ model: 'models/e', content: { parts: [{ text: 'hello' }] } }] });
  });

  it('refuses token arrays and oversized batches', () => {
    for (const input of [[1, 2, 3], [[1, 2]]] as EmbeddingRequest['input'][]) {
      expect(() => geminiEmbeddings.toUpstream({ model: 'a', input }, target())).toThrow(AdapterRequestError);
    }
    const many = Array.from({ length: 101 }, () => 'x');
    expect(() => geminiEmbeddings.toUpstream({ model: 'a', input: many }, target())).toThrow(AdapterRequestError);
    expect(() => geminiEmbeddings.toUpstream({ model: 'a', input: [] }, target())).toThrow(AdapterRequestError);
  });

  it('returns the OpenAI list shape with the client alias, and no usage (Gemini reports none; the gateway counts)', () => {
    const req: EmbeddingRequest = { model: 'alias', input: ['hello', 'world!!'] };
    const res = geminiEmbeddings.fromUpstream(fixture('embeddings-batch.json'), req, meta);
    expect(res.object).toBe('list');
    expect(res.model).toBe('text-embedding-alias');
    expect(res.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(res.data[0].embedding).toEqual([0.013168523, -0.008711934, -0.046782676, 0.00069968984]);
    expect(res.usage).toBeUndefined();
  });

  it('encodes base64 as little-endian float32 when asked', () => {
    const req: EmbeddingRequest = { model: 'alias', input: ['a', 'b'], encoding_format: 'base64' };
    const res = geminiEmbeddings.fromUpstream(fixture('embeddings-batch.json'), req, meta);
    const encoded = res.data[0].embedding as string;
    const buf = Buffer.from(encoded, 'base64');
    expect(buf.length).toBe(16);
    expect(buf.readFloatLE(0)).toBeCloseTo(0.013168523, 6);
    expect(buf.readFloatLE(4)).toBeCloseTo(-0.008711934, 6);
    expect(floatsToBase64([1])).toBe('AACAPw==');
  });

  it('throws UpstreamMalformedError on junk or a count mismatch', () => {
    const req: EmbeddingRequest = { model: 'a', input: ['only one'] };
    expect(() => geminiEmbeddings.fromUpstream({ embedding: {} }, req, meta)).toThrow(UpstreamMalformedError);
    expect(() => geminiEmbeddings.fromUpstream(fixture('embeddings-batch.json'), req, meta)).toThrow(
      UpstreamMalformedError,
    );
    expect(() => geminiEmbeddings.fromUpstream({ embeddings: [{ values: ['x'] }] }, req, meta)).toThrow(
      UpstreamMalformedError,
    );
  });

  it('maps errors like chat does', () => {
    expect(geminiEmbeddings.mapError(429, fixture('error-429-resource-exhausted.json')).retryable).toBe(true);
  });
});
