import { geminiAdapter } from './index';
import { toGeminiJsonSchema } from './json-schema';

describe('geminiAdapter', () => {
  it('is a gemini adapter with chat, embeddings and countTokens', () => {
    expect(geminiAdapter.kind).toBe('gemini');
    expect(typeof geminiAdapter.chat.toUpstream).toBe('function');
    expect(typeof geminiAdapter.chat.streamMapper).toBe('function');
    expect(typeof geminiAdapter.embeddings?.fromUpstream).toBe('function');
    expect(typeof geminiAdapter.countTokens?.fromUpstream).toBe('function');
  });
});

describe('toGeminiJsonSchema', () => {
  it('drops $schema and strict at every schema position but never inside data', () => {
    const out = toGeminiJsonSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { $schema: { type: 'string' }, a: { anyOf: [{ type: 'string', strict: true }, { type: 'null' }] } },
      $defs: { item: { $schema: 'x', type: 'object', additionalProperties: { type: 'number', strict: 1 } } },
      items: [{ strict: true, type: 'string' }],
      enum: [{ strict: true }],
      default: { $schema: 'kept' },
    });
    expect(out).toEqual({
      type: 'object',
      properties: { $schema: { type: 'string' }, a: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
      $defs: { item: { type: 'object', additionalProperties: { type: 'number' } } },
      items: [{ type: 'string' }],
      enum: [{ strict: true }],
      default: { $schema: 'kept' },
    });
  });
});
