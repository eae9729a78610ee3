import { estimateChatInputTokens, estimateEmbeddingInputTokens } from './estimate';

describe('hold estimates', () => {
  it('errs above a real count for English text', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50); // ~500 tokens with o200k
    const est = estimateChatInputTokens({ model: 'm', messages: [{ role: 'user', content: text }] });
    expect(est).toBeGreaterThan(500);
    expect(est).toBeLessThan(1000);
  });

  it('counts images, tool calls and tools', () => {
    const base = estimateChatInputTokens({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    const withImage = estimateChatInputTokens({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(100000) } },
          ],
        },
      ],
    });
    expect(withImage - base).toBe(1600); // the image data itself is not counted as text
    const withTools = estimateChatInputTokens({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
        },
      ],
    });
    expect(withTools).toBeGreaterThan(base + 20);
  });

  it('estimates embedding inputs of every shape', () => {
    expect(estimateEmbeddingInputTokens({ model: 'e', input: 'abcdef' })).toBe(3);
    expect(estimateEmbeddingInputTokens({ model: 'e', input: ['abc', 'abc'] })).toBe(4);
    expect(estimateEmbeddingInputTokens({ model: 'e', input: [1, 2, 3] })).toBe(3);
    expect(estimateEmbeddingInputTokens({ model: 'e', input: [[1, 2], [3]] })).toBe(3);
  });
});
