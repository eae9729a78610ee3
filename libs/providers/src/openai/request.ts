// OpenAI-compatible upstreams take our internal shape almost as is: swap the model, apply the
// provider's quirks (catalog data), and always ask for usage in streams so every stream can be billed.
import { AdapterRequestError } from '../errors';
import type { ChatRequest, EmbeddingRequest, RouteTarget, UpstreamCall } from '../types';

export function openaiHeaders(target: RouteTarget): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...(target.quirks?.headers ?? {}) };
  if (target.apiKey) h.authorization = `Bearer ${target.apiKey}`;
  return h;
}

export function applyQuirks(body: Record<string, unknown>, target: RouteTarget): Record<string, unknown> {
  const q = target.quirks;
  if (!q) return body;
  for (const p of q.drop_params ?? []) delete body[p];
  for (const [from, to] of Object.entries(q.rename_params ?? {})) {
    if (from in body) {
      body[to] = body[from];
      delete body[from];
    }
  }
  return body;
}

export function openaiChatRequest(req: ChatRequest, target: RouteTarget, opts: { stream: boolean }): UpstreamCall {
  if ((req.n ?? 1) > 1 && target.quirks?.supports_n === false) {
    throw new AdapterRequestError('n greater than 1 is not supported by this model', 'n');
  }
  const body: Record<string, unknown> = { ...req, model: target.upstreamModel, stream: opts.stream };
  if (opts.stream) {
    if (target.quirks?.no_stream_options) delete body.stream_options;
    else body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
  } else {
    delete body.stream_options;
  }
  return {
    method: 'POST',
    url: `${target.baseUrl}/chat/completions`,
    headers: openaiHeaders(target),
    body: applyQuirks(body, target),
  };
}

export function openaiEmbeddingsRequest(req: EmbeddingRequest, target: RouteTarget): UpstreamCall {
  const body: Record<string, unknown> = { ...req, model: target.upstreamModel };
  return {
    method: 'POST',
    url: `${target.baseUrl}/embeddings`,
    headers: openaiHeaders(target),
    body: applyQuirks(body, target),
  };
}
