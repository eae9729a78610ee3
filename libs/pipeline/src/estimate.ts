// Pessimistic token estimates for holds, computed before any upstream call. They only size the
// reservation (settlement charges the metered usage), but they must not fall short: a request that
// costs more than its reservation is paid from the lease's free funds only while there are some.
//
// Text counts one token per UTF-8 byte. Byte-level BPE tokenizers (OpenAI, Llama, Qwen, DeepSeek) never
// make more tokens than bytes, and byte-fallback SentencePiece (Gemini and others) neither, so this is an
// upper bound for every language and every kind of text. Characters/3, the estimate before, fell short
// for Chinese (o200k 0.70 tokens a character, cl100k 1.12, rare ideographs up to 2.5), and even for
// ASCII that is not prose (JSON 0.47, base64 0.68, punctuation 0.66 tokens a character). Measured on this
// machine: Buffer.byteLength costs ~2 us for 1,000 characters and ~0.1 ms for 100,000; a real tokenizer
// (gpt-tokenizer o200k) 0.15 ms and 7 ms, plus 180 ms and ~70 MB to load, and it is not an upper bound for
// other providers' tokenizers. The price of the bound is a larger hold for English (~4.5 times its
// tokens): the pipeline caps the input at the model's context window, and the output limit usually
// dominates the worst case anyway.
import type { ChatRequest, EmbeddingRequest } from '@switchyard/providers';

/** framing of a chat request and of each message (OpenAI adds about 3 of each) */
const PER_REQUEST = 3;
const PER_MESSAGE = 4;
const PER_IMAGE = 1_600; // a high-detail image on the larger models
const PER_AUDIO_SECOND_BLOCK = 1_000;

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

function textSize(content: unknown): { tokens: number; images: number; audio: number } {
  let tokens = 0;
  let images = 0;
  let audio = 0;
  if (typeof content === 'string') return { tokens: bytes(content), images, audio };
  if (Array.isArray(content)) {
    for (const part of content as Array<Record<string, unknown>>) {
      if (!part || typeof part !== 'object') continue;
      if (typeof part.text === 'string') tokens += bytes(part.text);
      else if (part.type === 'image_url' || part.type === 'image') images++;
      else if (part.type === 'input_audio') audio++;
      else if (part.type === 'file') images++;
    }
  }
  return { tokens, images, audio };
}

export function estimateChatInputTokens(req: ChatRequest): number {
  let tokens = 0;
  let images = 0;
  let audio = 0;
  for (const m of req.messages) {
    const t = textSize((m as { content?: unknown }).content);
    tokens += t.tokens;
    images += t.images;
    audio += t.audio;
    const calls = (m as { tool_calls?: Array<{ function?: { arguments?: string; name?: string } }> }).tool_calls;
    if (Array.isArray(calls))
      for (const c of calls) tokens += bytes(c.function?.arguments ?? '') + bytes(c.function?.name ?? '');
  }
  if (Array.isArray(req.tools)) tokens += bytes(JSON.stringify(req.tools));
  if (req.response_format && req.response_format.type === 'json_schema')
    tokens += bytes(JSON.stringify(req.response_format));
  return tokens + PER_REQUEST + PER_MESSAGE * req.messages.length + PER_IMAGE * images + PER_AUDIO_SECOND_BLOCK * audio;
}

export function estimateEmbeddingInputTokens(req: EmbeddingRequest): number {
  const input = req.input as unknown;
  if (typeof input === 'string') return bytes(input) + 1;
  if (!Array.isArray(input)) return 1;
  let total = 0;
  for (const x of input as unknown[]) {
    if (typeof x === 'string') total += bytes(x) + 1;
    else if (typeof x === 'number') total += 1;
    else if (Array.isArray(x)) total += x.length;
    else if (x && typeof x === 'object')
      total += typeof (x as { text?: unknown }).text === 'string' ? bytes((x as { text: string }).text) : PER_IMAGE;
  }
  return Math.max(total, 1);
}
