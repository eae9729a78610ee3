// OpenAI /v1/embeddings <-> Gemini batchEmbedContents (one request per input, answered in order).
import { AdapterRequestError } from '../errors';
import type { EmbeddingRequest, EmbeddingResponse, EmbeddingsAdapter, RouteTarget, UpstreamCall } from '../types';
import { UpstreamMalformedError } from '../types';
import { mapError } from './errors';
import { urlToPart } from './media';
import type { GeminiEmbedContentRequest, GeminiPart } from './types';
import { geminiHeaders, geminiUrl, isRecord, modelId } from './upstream';

/** batchEmbedContents takes at most 100 requests; one client call maps to one upstream call. */
export const MAX_BATCH_INPUTS = 100;

/** Each input (a string or one block) as the parts of one EmbedContentRequest. */
function inputParts(input: EmbeddingRequest['input']): GeminiPart[][] {
  if (typeof input === 'string') return [[{ text: input }]];
  if (!Array.isArray(input) || input.length === 0) {
    throw new AdapterRequestError('input must be a non-empty string or array', 'input');
  }
  return (input as unknown[]).map((item, i): GeminiPart[] => {
    const param = `input[${i}]`;
    if (typeof item === 'string') return [{ text: item }];
    if (typeof item === 'number' || Array.isArray(item)) {
      // Token ids are tokenizer-specific (OpenAI's); Gemini only embeds text and media.
      throw new AdapterRequestError('token array input is not supported by this model', 'input');
    }
    if (isRecord(item) && item.type === 'text' && typeof item.text === 'string') return [{ text: item.text }];
    if (
      isRecord(item) &&
      item.type === 'image_url' &&
      isRecord(item.image_url) &&
      typeof item.image_url.url === 'string'
    ) {
      return [urlToPart(item.image_url.url, `${param}.image_url.url`, 'image/jpeg')];
    }
    if (
      isRecord(item) &&
      item.type === 'video_url' &&
      isRecord(item.video_url) &&
      typeof item.video_url.url === 'string'
    ) {
      return [urlToPart(item.video_url.url, `${param}.video_url.url`, 'video/mp4')];
    }
    throw new AdapterRequestError('unsupported input item', param);
  });
}

function embeddingsToUpstream(req: EmbeddingRequest, target: RouteTarget): UpstreamCall {
  const inputs = inputParts(req.input);
  if (inputs.length > MAX_BATCH_INPUTS) {
    throw new AdapterRequestError(`at most ${MAX_BATCH_INPUTS} inputs per request for this model`, 'input');
  }
  if (req.dimensions !== undefined && (!Number.isInteger(req.dimensions) || req.dimensions <= 0)) {
    throw new AdapterRequestError('dimensions must be a positive integer', 'dimensions');
  }
  const model = `models/${modelId(target.upstreamModel)}`;
  const requests: GeminiEmbedContentRequest[] = inputs.map((parts) => ({
    model,
    content: { parts },
    ...(req.dimensions !== undefined ? { outputDimensionality: req.dimensions } : {}),
  }));
  return {
    method: 'POST',
    url: geminiUrl(target, 'batchEmbedContents'),
    headers: geminiHeaders(target),
    body: { requests },
  };
}

/** float32 little-endian, base64: what OpenAI returns for encoding_format 'base64' (Gemini has no such option). */
export function floatsToBase64(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString('base64');
}

function embeddingsFromUpstream(body: unknown, req: EmbeddingRequest, meta: { model: string }): EmbeddingResponse {
  if (!isRecord(body) || !Array.isArray(body.embeddings)) {
    throw new UpstreamMalformedError('Gemini embeddings response has no embeddings array');
  }
  const expected = typeof req.input === 'string' ? 1 : Array.isArray(req.input) ? req.input.length : 0;
  if (body.embeddings.length !== expected) {
    throw new UpstreamMalformedError('Gemini returned a different number of embeddings than inputs');
  }
  const data = (body.embeddings as unknown[]).map((item, index) => {
    if (!isRecord(item) || !Array.isArray(item.values) || !item.values.every((v) => typeof v === 'number')) {
      throw new UpstreamMalformedError('Gemini embedding has no numeric values');
    }
    const values = item.values as number[];
    return {
      object: 'embedding' as const,
      index,
      embedding: req.encoding_format === 'base64' ? floatsToBase64(values) : values,
    };
  });
  // Gemini reports no token counts for embeddings: no usage here, the gateway counts with its tokenizer
  return { object: 'list', data, model: meta.model };
}

export const geminiEmbeddings: EmbeddingsAdapter = {
  toUpstream: embeddingsToUpstream,
  fromUpstream: embeddingsFromUpstream,
  mapError,
};
