// Usage of a chat answer: what the upstream reported, or a real token count when it reported none.
import type { MeteredUsage } from '@switchyard/catalog';
import type { ChatCompletion, ChatRequest, Usage } from '@switchyard/providers';
import { countChatInput, countCompletionOutput } from '../token-count';

export function meteredFrom(u: Usage | null | undefined): MeteredUsage | undefined {
  if (!u || typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return undefined;
  // every prompt has tokens: all zeros is a server filling the field in, not a count (count instead)
  if (u.prompt_tokens <= 0 && u.completion_tokens <= 0) return undefined;
  return {
    inputTokens: u.prompt_tokens,
    cachedInputTokens: u.prompt_tokens_details?.cached_tokens ?? 0,
    outputTokens: u.completion_tokens,
  };
}

export function toOpenAIUsage(m: MeteredUsage): Usage {
  return {
    prompt_tokens: m.inputTokens,
    completion_tokens: m.outputTokens,
    total_tokens: m.inputTokens + m.outputTokens,
    prompt_tokens_details: { cached_tokens: m.cachedInputTokens ?? 0 },
  };
}

/** Fills in `usage` when the upstream sent none, so clients and billing always see it. */
export function completionUsage(req: ChatRequest, c: ChatCompletion): MeteredUsage {
  const reported = meteredFrom(c.usage);
  if (reported) return reported;
  const counted: MeteredUsage = {
    inputTokens: countChatInput(req),
    outputTokens: countCompletionOutput(c),
    cachedInputTokens: 0,
  };
  c.usage = toOpenAIUsage(counted);
  return counted;
}
