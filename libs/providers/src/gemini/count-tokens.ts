// Native token counting: POST models/{m}:countTokens with the documented `generateContentRequest` wrapper,
// the only form that also counts systemInstruction and tools (bare `contents` would undercount).
import type { ChatRequest, CountTokensAdapter, RouteTarget, UpstreamCall } from '../types';
import { UpstreamMalformedError } from '../types';
import { toGenerateContentRequest } from './chat.request';
import type { GeminiCountTokensRequest } from './types';
import { geminiHeaders, geminiUrl, isRecord, modelId } from './upstream';

function countTokensToUpstream(req: ChatRequest, target: RouteTarget): UpstreamCall {
  const { contents, systemInstruction, tools, toolConfig } = toGenerateContentRequest(req, target);
  // generationConfig does not change the prompt's size and is left out of the count.
  const body: GeminiCountTokensRequest = {
    generateContentRequest: {
      model: `models/${modelId(target.upstreamModel)}`,
      contents,
      ...(systemInstruction ? { systemInstruction } : {}),
      ...(tools ? { tools } : {}),
      ...(toolConfig ? { toolConfig } : {}),
    },
  };
  return { method: 'POST', url: geminiUrl(target, 'countTokens'), headers: geminiHeaders(target), body };
}

function countTokensFromUpstream(body: unknown): { input_tokens: number } {
  if (!isRecord(body)) throw new UpstreamMalformedError('Gemini countTokens response is not a JSON object');
  // proto3 JSON omits a zero count, so an object without totalTokens counted nothing.
  const total = body.totalTokens ?? 0;
  if (typeof total !== 'number' || !Number.isFinite(total) || total < 0) {
    throw new UpstreamMalformedError('Gemini countTokens response has no valid totalTokens');
  }
  return { input_tokens: total };
}

export const geminiCountTokens: CountTokensAdapter = {
  toUpstream: countTokensToUpstream,
  fromUpstream: countTokensFromUpstream,
};
