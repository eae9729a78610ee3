import { countText } from '@switchyard/completions';
import { countEmbeddingInput, embeddingUsage } from './embedding-usage';

describe('embedding usage', () => {
  it('keeps what the upstream reported', () => {
    const reported = { prompt_tokens: 7, total_tokens: 7 };
    expect(embeddingUsage({ model: 'm', input: 'The quick brown fox' }, reported)).toBe(reported);
  });

  it('counts with the real tokenizer when the upstream reported nothing (not characters / 4)', () => {
    // 19 characters: ceil(19 / 4) = 5, while o200k_base makes 4 tokens of it
    expect(embeddingUsage({ model: 'm', input: 'The quick brown fox' }, undefined)).toEqual({
      prompt_tokens: 4,
      total_tokens: 4,
    });
    expect(
      embeddingUsage({ model: 'm', input: ['a b', 'c'] }, { prompt_tokens: 0, total_tokens: 0 }).prompt_tokens,
    ).toBe(countText('a b') + countText('c'));
  });

  it('counts token ids as themselves, text blocks by their text, and media blocks as an image', () => {
    expect(countEmbeddingInput([1, 2, 3])).toBe(3);
    expect(countEmbeddingInput([[1, 2], [3]])).toBe(3);
    expect(countEmbeddingInput([{ type: 'text', text: 'hello world' }])).toBe(countText('hello world'));
    expect(countEmbeddingInput([{ type: 'image_url', image_url: { url: 'https://x/y.png' } }])).toBe(765);
  });
});
