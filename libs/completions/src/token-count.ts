// Real token counts (o200k_base via gpt-tokenizer) for when an upstream reports no usage, and for a
// stream cut short. Loaded on first use: the vocabulary costs ~70 MB and 200 ms, needed only then.
import type { ChatCompletion, ChatRequest } from '@switchyard/providers';

type Tokenizer = { countTokens(text: string): number };
let tokenizer: Tokenizer | undefined;

function tk(): Tokenizer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tokenizer ??= require('gpt-tokenizer') as Tokenizer;
  return tokenizer;
}

export function countText(text: string): number {
  return text ? tk().countTokens(text) : 0;
}

const PER_MESSAGE = 3; // OpenAI's chat format adds about three tokens of framing per message
const PER_IMAGE = 765; // a 1024x1024 high-detail image on gpt-4o

export function countChatInput(req: ChatRequest): number {
  let total = 3;
  for (const m of req.messages) {
    total += PER_MESSAGE;
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') total += countText(content);
    else if (Array.isArray(content)) {
      for (const p of content as Array<{ type?: string; text?: string }>) {
        if (typeof p.text === 'string') total += countText(p.text);
        else if (p.type === 'image_url') total += PER_IMAGE;
      }
    }
    const calls = (m as { tool_calls?: Array<{ function: { name: string; arguments: string } }> }).tool_calls;
    for (const c of calls ?? []) total += countText(c.function.name) + countText(c.function.arguments);
  }
  if (req.tools?.length) total += countText(JSON.stringify(req.tools));
  return total;
}

export function countCompletionOutput(c: ChatCompletion): number {
  let total = 0;
  for (const ch of c.choices) {
    if (typeof ch.message.content === 'string') total += countText(ch.message.content);
    for (const t of ch.message.tool_calls ?? []) total += countText(t.function.name) + countText(t.function.arguments);
  }
  return total;
}
