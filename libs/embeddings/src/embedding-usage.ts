// Usage of an embeddings answer: what the upstream reported, or a count with the gateway's tokenizer
// (gpt-tokenizer, as chat uses when an upstream reports none) when it reported nothing usable. Gemini
// never reports embedding usage. Counting happens here, outside the adapters, which stay pure and cheap.
import { countText } from '@switchyard/completions';
import type { EmbeddingRequest, EmbeddingResponse } from '@switchyard/providers';

/** An image or video block: what chat counts for an image (there is no text to tokenize). */
const MEDIA_BLOCK_TOKENS = 765;

export type EmbeddingUsage = NonNullable<EmbeddingResponse['usage']>;

export function embeddingUsage(req: EmbeddingRequest, reported: EmbeddingResponse['usage']): EmbeddingUsage {
  if (reported && typeof reported.prompt_tokens === 'number' && reported.prompt_tokens > 0) return reported;
  const n = countEmbeddingInput(req.input);
  return { prompt_tokens: n, total_tokens: n };
}

export function countEmbeddingInput(input: EmbeddingRequest['input']): number {
  if (typeof input === 'string') return countText(input);
  if (!Array.isArray(input)) return 0;
  const items = input as unknown[];
  // one input given as token ids: those are its tokens
  if (items.every((x) => typeof x === 'number')) return items.length;
  let total = 0;
  for (const item of items) {
    if (typeof item === 'string') total += countText(item);
    else if (Array.isArray(item)) total += item.length;
    else if (isTextBlock(item)) total += countText(item.text);
    else total += MEDIA_BLOCK_TOKENS;
  }
  return total;
}

function isTextBlock(v: unknown): v is { type: 'text'; text: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as { type?: unknown }).type === 'text' &&
    typeof (v as { text?: unknown }).text === 'string'
  );
}
