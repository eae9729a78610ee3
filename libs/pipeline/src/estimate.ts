// Cheap, pessimistic token estimates for holds, computed before any upstream call. They only size the
// reservation: settlement charges the metered usage. Cost: one pass over the message text, no tokenizer.
import type { ChatRequest, EmbeddingRequest } from '@switchyard/providers';

/** Characters per token assumed for holds: below the ~4 of English text, so holds err on the high side. */
const CHARS_PER_TOKEN = 3;
const PER_MESSAGE = 4;
const PER_IMAGE = 1_600; // a high-detail image on the larger models
const PER_AUDIO_SECOND_BLOCK = 1_000;

function textLength(content: unknown): { chars: number; images: number; audio: number } {
  let chars = 0;
  let images = 0;
  let audio = 0;
  if (typeof content === 'string') return { chars: content.length, images, audio };
  if (Array.isArray(content)) {
    for (const part of content as Array<Record<string, unknown>>) {
      if (!part || typeof part !== 'object') continue;
      if (typeof part.text === 'string') chars += part.text.length;
      else if (part.type === 'image_url' || part.type === 'image') images++;
      else if (part.type === 'input_audio') audio++;
      else if (part.type === 'file') images++;
    }
  }
  return { chars, images, audio };
}

export function estimateChatInputTokens(req: ChatRequest): number {
  let chars = 0;
  let images = 0;
  let audio = 0;
  for (const m of req.messages) {
    const t = textLength((m as { content?: unknown }).content);
    chars += t.chars;
    images += t.images;
    audio += t.audio;
    const calls = (m as { tool_calls?: Array<{ function?: { arguments?: string; name?: string } }> }).tool_calls;
    if (Array.isArray(calls))
      for (const c of calls) chars += (c.function?.arguments?.length ?? 0) + (c.function?.name?.length ?? 0);
  }
  if (Array.isArray(req.tools)) chars += JSON.stringify(req.tools).length;
  if (req.response_format && req.response_format.type === 'json_schema')
    chars += JSON.stringify(req.response_format).length;
  return (
    Math.ceil(chars / CHARS_PER_TOKEN) +
    PER_MESSAGE * req.messages.length +
    PER_IMAGE * images +
    PER_AUDIO_SECOND_BLOCK * audio
  );
}

export function estimateEmbeddingInputTokens(req: EmbeddingRequest): number {
  const input = req.input as unknown;
  if (typeof input === 'string') return Math.ceil(input.length / CHARS_PER_TOKEN) + 1;
  if (!Array.isArray(input)) return 1;
  let total = 0;
  for (const x of input as unknown[]) {
    if (typeof x === 'string') total += Math.ceil(x.length / CHARS_PER_TOKEN) + 1;
    else if (typeof x === 'number') total += 1;
    else if (Array.isArray(x)) total += x.length;
    else if (x && typeof x === 'object')
      total +=
        typeof (x as { text?: unknown }).text === 'string'
          ? Math.ceil((x as { text: string }).text.length / CHARS_PER_TOKEN)
          : PER_IMAGE;
  }
  return Math.max(total, 1);
}
