import { randomBytes } from 'node:crypto';
import { countTokens as o200k } from 'gpt-tokenizer';
import { countTokens as cl100k } from 'gpt-tokenizer/cjs/encoding/cl100k_base';
import { estimateChatInputTokens, estimateEmbeddingInputTokens } from './estimate';

const chat = (text: string) => estimateChatInputTokens({ model: 'm', messages: [{ role: 'user', content: text }] });

describe('hold estimates', () => {
  // texts where characters/3 fell short of a real count
  const texts: Record<string, string> = {
    english: 'The quick brown fox jumps over the lazy dog. '.repeat(50),
    chinese:
      '人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。'.repeat(
        10,
      ),
    japanese: '吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。'.repeat(10),
    rare_ideographs: '鱻龘靐齉爩麤龖骉羴猋'.repeat(20),
    emoji: '😀🎉🚀👍🏽❤️🔥✨🙏🏻'.repeat(20),
    json: JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i}`, v: [i, i * 2] }))),
    base64: randomBytes(3000).toString('base64'),
    punctuation: '!@#$%^&*()_+{}|:"<>?~`-=[]\\;\',./'.repeat(30),
  };

  it.each(Object.entries(texts))('never falls short of a real tokenizer count: %s', (_, text) => {
    const est = chat(text);
    expect(est).toBeGreaterThanOrEqual(o200k(text) + 6); // + the framing a real count adds
    expect(est).toBeGreaterThanOrEqual(cl100k(text) + 6);
    expect(est).toBe(Buffer.byteLength(text) + 7); // one token a byte, and the framing
  });

  it('counts images, tool calls and tools', () => {
    const base = chat('hi');
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
    expect(estimateEmbeddingInputTokens({ model: 'e', input: 'abcdef' })).toBe(7);
    expect(estimateEmbeddingInputTokens({ model: 'e', input: ['abc', 'abc'] })).toBe(8);
    expect(estimateEmbeddingInputTokens({ model: 'e', input: [1, 2, 3] })).toBe(3);
    expect(estimateEmbeddingInputTokens({ model: 'e', input: [[1, 2], [3]] })).toBe(3);
    const chinese = texts.chinese;
    expect(estimateEmbeddingInputTokens({ model: 'e', input: chinese })).toBeGreaterThan(cl100k(chinese));
  });
});
