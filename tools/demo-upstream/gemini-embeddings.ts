// Gemini wire format: POST /v1beta/models/{model}:embedContent and :batchEmbedContents.
import { embed, resolveDimensions, toNumbers } from './embeddings';
import type { Exchange } from './exchange';
import { field, geminiDialect } from './gemini';
import { asArray, asObj, isObj, type Obj, type Route, str } from './route';

function contentText(content: unknown): string | undefined {
  if (!isObj(content)) return undefined;
  const texts = asArray(content.parts)
    .map((p) => asObj(p))
    .map((p) => str(p.text) ?? JSON.stringify(p));
  return texts.length > 0 ? texts.join(' ') : undefined;
}

/** `models/x` -> `x`, so default dimensions follow the model id. */
function modelId(name: unknown, fallback: string): string {
  return typeof name === 'string' && name !== '' ? name.replace(/^models\//, '') : fallback;
}

function values(req: Obj, model: string): { values: number[] } | undefined {
  const text = contentText(req.content);
  if (text === undefined) return undefined;
  const dims = resolveDimensions(modelId(req.model, model), field(req, 'outputDimensionality'));
  return { values: toNumbers(embed(text, dims)) };
}

async function embedContent(ex: Exchange, params: string[]): Promise<void> {
  const b = asObj(ex.body);
  const text = contentText(b.content);
  if (text === undefined) return ex.error(400, '* EmbedContentRequest.content: content is not specified');
  if (!(await ex.gate(text, false))) return;
  ex.json(200, { embedding: values(b, params[0]) });
}

async function batchEmbedContents(ex: Exchange, params: string[]): Promise<void> {
  const requests = asArray(asObj(ex.body).requests).map(asObj);
  if (requests.length === 0) return ex.error(400, '* BatchEmbedContentsRequest.requests: requests is not specified');
  const texts = requests.map((r) => contentText(r.content));
  if (texts.some((t) => t === undefined)) {
    return ex.error(400, '* BatchEmbedContentsRequest.requests.content: content is not specified');
  }
  if (!(await ex.gate(texts.join(' '), false))) return;
  ex.json(200, { embeddings: requests.map((r) => values(r, params[0])) });
}

const modelPath = (method: string) => new RegExp(`^/(?:v1beta|v1)/models/([^/:]+):${method}$`);

export const geminiEmbeddingRoutes: Route[] = [
  { method: 'POST', pattern: modelPath('embedContent'), dialect: geminiDialect, handle: embedContent },
  { method: 'POST', pattern: modelPath('batchEmbedContents'), dialect: geminiDialect, handle: batchEmbedContents },
];
