// OpenAI wire format: POST /v1/embeddings (string, string[], token arrays, multimodal blocks;
// encoding_format float or base64; dimensions).
import { embed, inputTokens, resolveDimensions, toBase64, toNumbers } from './embeddings';
import type { Exchange } from './exchange';
import { openaiDialect } from './openai';
import { asObj, type Route } from './route';

/** Each input item as the text its vector is derived from; undefined when the input is unusable. */
export function embeddingInputs(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  // a flat token array is one input
  if (input.every((x) => typeof x === 'number')) return [JSON.stringify(input)];
  return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

async function embeddings(ex: Exchange): Promise<void> {
  const b = asObj(ex.body);
  if (typeof b.model !== 'string' || b.model === '') {
    return ex.error(400, 'you must provide a model parameter', 'model');
  }
  const inputs = embeddingInputs(b.input);
  if (!inputs) return ex.error(400, "'input' must be a non-empty string or array", 'input');
  if (b.encoding_format !== undefined && b.encoding_format !== 'float' && b.encoding_format !== 'base64') {
    return ex.error(400, "'encoding_format' must be 'float' or 'base64'", 'encoding_format');
  }
  if (!(await ex.gate(inputs.join(' '), false))) return;

  const dims = resolveDimensions(b.model, b.dimensions);
  const base64 = b.encoding_format === 'base64';
  let tokens = 0;
  const data = inputs.map((text, index) => {
    tokens += inputTokens(text);
    const vector = embed(text, dims);
    return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : toNumbers(vector) };
  });
  ex.json(200, {
    object: 'list',
    data,
    model: b.model,
    ...(ex.knobs.no_usage ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } }),
  });
}

export const openaiEmbeddingRoutes: Route[] = [
  { method: 'POST', pattern: /^\/v1\/embeddings$/, dialect: openaiDialect, handle: embeddings },
];
