import type { ChatRequest } from '../types';
import { UpstreamMalformedError } from '../types';
import { geminiCountTokens } from './count-tokens';
import { fixture, target } from './test-util';

describe('gemini countTokens', () => {
  it('posts the generateContentRequest wrapper with system instruction and tools', () => {
    const req: ChatRequest = {
      model: 'alias',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      max_tokens: 10,
    };
    const call = geminiCountTokens.toUpstream(req, target());
    expect(call.url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens');
    expect(call.headers['x-goog-api-key']).toBe('test-gemini-key');
    expect(call.body).toEqual({
      generateContentRequest: {
        model: 'models/gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        tools: [{ functionDeclarations: [{ name: 'f', parametersJsonSchema: { type: 'object', properties: {} } }] }],
      },
    });
  });

  it('reads totalTokens (an omitted zero counts as 0)', () => {
    expect(geminiCountTokens.fromUpstream(fixture('count-tokens.json'))).toEqual({ input_tokens: 31 });
    expect(geminiCountTokens.fromUpstream({})).toEqual({ input_tokens: 0 });
  });

  it('throws UpstreamMalformedError on junk', () => {
    expect(() => geminiCountTokens.fromUpstream('nope')).toThrow(UpstreamMalformedError);
    expect(() => geminiCountTokens.fromUpstream({ totalTokens: 'many' })).toThrow(UpstreamMalformedError);
  });
});
