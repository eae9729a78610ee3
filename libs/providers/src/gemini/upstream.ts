// URL and headers of a Gemini API call: base URL without version, the method appended as Google's SDK does.
import type { RouteTarget } from '../types';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'batchEmbedContents' | 'countTokens';

/** `gemini-2.5-flash` and `models/gemini-2.5-flash` both name the same model resource. */
export function modelId(upstreamModel: string): string {
  return upstreamModel.replace(/^models\//, '');
}

export function geminiUrl(target: RouteTarget, method: GeminiMethod, query?: string): string {
  const base = target.baseUrl.replace(/\/+$/, '');
  const model = encodeURIComponent(modelId(target.upstreamModel));
  return `${base}/v1beta/models/${model}:${method}${query ? `?${query}` : ''}`;
}

/** Catalog headers first, so a quirk can add headers but never replace the route's key. */
export function geminiHeaders(target: RouteTarget): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(target.quirks?.headers ?? {}) };
  if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
  return headers;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
