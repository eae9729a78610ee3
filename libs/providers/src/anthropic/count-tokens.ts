// Native token counting: POST {baseUrl}/v1/messages/count_tokens with the translated request.
import type { ChatRequest, CountTokensAdapter, RouteTarget, UpstreamCall } from '../types';
import { UpstreamMalformedError } from '../types';
import { anthropicHeaders, anthropicUrl, applyDropParams, toAnthropicRequest } from './chat.request';
import { isRecord } from './chat.response';
import type { AnthropicCountTokensRequest } from './types';

function toUpstream(req: ChatRequest, target: RouteTarget): UpstreamCall {
  const full = toAnthropicRequest(req, target.upstreamModel);
  // count_tokens refuses max_tokens, stream, sampling fields and metadata: only what shapes the prompt goes
  const body: AnthropicCountTokensRequest = {
    model: full.model,
    messages: full.messages,
    ...(full.system ? { system: full.system } : {}),
    ...(full.tools ? { tools: full.tools } : {}),
    ...(full.tool_choice ? { tool_choice: full.tool_choice } : {}),
  };
  return {
    method: 'POST',
    url: anthropicUrl(target, '/v1/messages/count_tokens'),
    headers: anthropicHeaders(target),
    body: applyDropParams(body, target),
  };
}

function fromUpstream(body: unknown): { input_tokens: number } {
  if (!isRecord(body) || typeof body.input_tokens !== 'number' || !Number.isFinite(body.input_tokens)) {
    throw new UpstreamMalformedError('the upstream token count is not {input_tokens}');
  }
  return { input_tokens: body.input_tokens };
}

export const anthropicCountTokens: CountTokensAdapter = { toUpstream, fromUpstream };
