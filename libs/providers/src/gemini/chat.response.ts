// Gemini GenerateContentResponse -> OpenAI chat.completion, and the finish-reason / usage mappings the
// stream mapper shares.
import type { AdapterContext, ChatCompletion, ChatResultMeta, FinishReason, Usage } from '../types';
import { UpstreamMalformedError } from '../types';
import type { ToolCallWithSignature } from './chat.messages';
import type {
  GeminiCandidate,
  GeminiFinishReason,
  GeminiGenerateContentResponse,
  GeminiPart,
  GeminiUsageMetadata,
} from './types';
import { isRecord } from './upstream';

const CONTENT_FILTER_REASONS = new Set<string>([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * OpenAI has no finish reason for Gemini's OTHER, LANGUAGE or MALFORMED_FUNCTION_CALL: they end as `stop`
 * (or `tool_calls` when calls were produced), as Google's own OpenAI-compatible endpoint does.
 */
export function mapFinishReason(reason: GeminiFinishReason, hasToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/**
 * Thinking tokens are billed as output, so they count as completion tokens (and as reasoning_tokens).
 * proto3 JSON leaves out zero counts, so a missing count is 0; but metadata with neither a prompt nor a
 * candidates count reports nothing, and then the gateway counts the tokens itself.
 */
export function mapUsage(meta: GeminiUsageMetadata): Usage | undefined {
  if (typeof meta.promptTokenCount !== 'number' && typeof meta.candidatesTokenCount !== 'number') return undefined;
  const prompt = (meta.promptTokenCount ?? 0) + (meta.toolUsePromptTokenCount ?? 0);
  const thoughts = meta.thoughtsTokenCount ?? 0;
  const completion = (meta.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: meta.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/**
 * Checks the shape this adapter reads; throws UpstreamMalformedError on anything else. A stream event may carry
 * only usageMetadata, so `partial` accepts a body without candidates.
 */
export function parseGenerateContentResponse(body: unknown, partial = false): GeminiGenerateContentResponse {
  if (!isRecord(body)) throw new UpstreamMalformedError('Gemini response is not a JSON object');
  const { candidates, promptFeedback, usageMetadata } = body;
  if (candidates !== undefined && !Array.isArray(candidates)) {
    throw new UpstreamMalformedError('Gemini response candidates is not an array');
  }
  if (usageMetadata !== undefined && !isRecord(usageMetadata)) {
    throw new UpstreamMalformedError('Gemini response usageMetadata is not an object');
  }
  const blocked = isRecord(promptFeedback) && typeof promptFeedback.blockReason === 'string';
  if (!partial && (candidates === undefined || candidates.length === 0) && !blocked) {
    throw new UpstreamMalformedError('Gemini response has neither candidates nor a prompt block reason');
  }
  for (const candidate of candidates ?? []) {
    if (!isRecord(candidate)) throw new UpstreamMalformedError('Gemini candidate is not an object');
    const content = candidate.content;
    if (
      content !== undefined &&
      (!isRecord(content) || (content.parts !== undefined && !Array.isArray(content.parts)))
    ) {
      throw new UpstreamMalformedError('Gemini candidate content is not {parts: [...]}');
    }
    for (const part of (isRecord(content) && Array.isArray(content.parts) ? content.parts : []) as unknown[]) {
      if (!isRecord(part)) throw new UpstreamMalformedError('Gemini part is not an object');
      if (part.text !== undefined && typeof part.text !== 'string') {
        throw new UpstreamMalformedError('Gemini part text is not a string');
      }
      if (
        part.functionCall !== undefined &&
        !(isRecord(part.functionCall) && typeof part.functionCall.name === 'string')
      ) {
        throw new UpstreamMalformedError('Gemini functionCall has no name');
      }
    }
  }
  return body as GeminiGenerateContentResponse;
}

/** proto3 JSON omits index 0, so a missing index is the candidate's position. */
export function candidateIndex(candidate: GeminiCandidate, position: number): number {
  return typeof candidate.index === 'number' ? candidate.index : position;
}

/** Answer text only: thought-summary parts are reasoning, not content. */
export function isAnswerText(part: GeminiPart): part is GeminiPart & { text: string } {
  return typeof part.text === 'string' && part.thought !== true;
}

export function toToolCall(
  part: GeminiPart & { functionCall: NonNullable<GeminiPart['functionCall']> },
  id: string,
): ToolCallWithSignature {
  const call: ToolCallWithSignature = {
    id,
    type: 'function',
    function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) },
  };
  // Where Google's OpenAI-compatible endpoint puts it, so clients replaying the turn send it back (Gemini 3).
  if (part.thoughtSignature) call.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return call;
}

export function chatFromUpstream(body: unknown, ctx: AdapterContext, meta: ChatResultMeta): ChatCompletion {
  const response = parseGenerateContentResponse(body);
  const choices: ChatCompletion['choices'] = (response.candidates ?? []).map((candidate, position) => {
    const parts = candidate.content?.parts ?? [];
    const texts = parts.filter(isAnswerText).map((p) => p.text);
    const calls = parts.flatMap((p) =>
      p.functionCall ? [toToolCall({ ...p, functionCall: p.functionCall }, ctx.newId('call'))] : [],
    );
    // Gemini cannot be told to call one function at a time: parallel_tool_calls: false is kept here
    const toolCalls = meta.parallelToolCalls === false ? calls.slice(0, 1) : calls;
    return {
      index: candidateIndex(candidate, position),
      message: {
        role: 'assistant' as const,
        content: texts.length > 0 ? texts.join('') : null,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      },
      finish_reason: mapFinishReason(candidate.finishReason ?? 'STOP', toolCalls.length > 0),
      logprobs: null,
    };
  });
  if (choices.length === 0) {
    // The prompt itself was blocked: Gemini sends promptFeedback.blockReason and no candidates.
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      finish_reason: 'content_filter',
      logprobs: null,
    });
  }
  const completion: ChatCompletion = {
    id: ctx.newId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(ctx.now() / 1000),
    model: meta.model,
    choices,
  };
  const usage = response.usageMetadata && mapUsage(response.usageMetadata);
  if (usage) completion.usage = usage;
  return completion;
}
