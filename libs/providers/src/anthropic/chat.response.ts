// Anthropic message -> OpenAI chat.completion.
import type { AdapterContext, ChatCompletion, ChatResultMeta, FinishReason, ToolCall, Usage } from '../types';
import { UpstreamMalformedError } from '../types';
import { JSON_MODE_TOOL_NAME } from './json-mode';
import type { AnthropicContentBlock, AnthropicMessage, AnthropicStopReason } from './types';

/**
 * A tool_use stop with no client tool call was the JSON-mode tool: for the client that is a normal stop.
 * Unknown future reasons fall back on what the content shows.
 */
export function toFinishReason(reason: AnthropicStopReason | null | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return hasToolCalls ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default:
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

export interface AnthropicTokenCounts {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/**
 * Anthropic's input_tokens exclude cache reads and cache writes; OpenAI's prompt_tokens include every
 * prompt token, with cache reads as cached_tokens. Cache writes (billed higher by Anthropic) are kept
 * as prompt_tokens_details.cache_creation_tokens so that pricing can see them.
 * Undefined unless both input and output counts came: zeros would bill nothing, while no usage makes
 * the gateway count the tokens itself.
 */
export function toUsage(u: AnthropicTokenCounts): Usage | undefined {
  if (typeof u.input_tokens !== 'number' || typeof u.output_tokens !== 'number') return undefined;
  const input = count(u.input_tokens);
  const cacheRead = count(u.cache_read_input_tokens);
  const cacheWrite = count(u.cache_creation_input_tokens);
  const output = count(u.output_tokens);
  const prompt = input + cacheRead + cacheWrite;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: {
      cached_tokens: cacheRead,
      ...(cacheWrite > 0 ? { cache_creation_tokens: cacheWrite } : {}),
    },
  };
}

function count(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function assertMessage(body: unknown): asserts body is AnthropicMessage {
  if (!isRecord(body) || body.type !== 'message' || !Array.isArray(body.content)) {
    throw new UpstreamMalformedError('the upstream answer is not an Anthropic message');
  }
  for (const block of body.content) {
    if (!isRecord(block) || typeof block.type !== 'string') {
      throw new UpstreamMalformedError('the upstream message has a malformed content block');
    }
    if (block.type === 'text' && typeof block.text !== 'string') {
      throw new UpstreamMalformedError('the upstream message has a text block without text');
    }
    if (block.type === 'tool_use' && (typeof block.id !== 'string' || typeof block.name !== 'string')) {
      throw new UpstreamMalformedError('the upstream message has a tool_use block without id or name');
    }
  }
}

/** Text, client tool calls, and the JSON-mode answer (the reserved tool's input) of a message's blocks. */
export function splitContent(blocks: AnthropicContentBlock[]): { text: string; toolCalls: ToolCall[]; json?: string } {
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  let json: string | undefined;
  for (const block of blocks) {
    if (block.type === 'text') texts.push(block.text);
    else if (block.type === 'tool_use' && block.name === JSON_MODE_TOOL_NAME) json = JSON.stringify(block.input ?? {});
    else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking, redacted_thinking and server-tool blocks have no place in an OpenAI message
  }
  return { text: texts.join(''), toolCalls, ...(json !== undefined ? { json } : {}) };
}

export function fromUpstream(body: unknown, ctx: AdapterContext, meta: ChatResultMeta): ChatCompletion {
  assertMessage(body);
  const { text, toolCalls, json } = splitContent(body.content);
  // In JSON mode the answer is the tool input alone: any text around it would break JSON.parse(content).
  const content = json ?? (text !== '' || toolCalls.length === 0 ? text : null);
  const completion: ChatCompletion = {
    id: ctx.newId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(ctx.now() / 1000),
    model: meta.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toFinishReason(body.stop_reason, toolCalls.length > 0),
        logprobs: null,
      },
    ],
  };
  const usage = toUsage(isRecord(body.usage) ? body.usage : {});
  if (usage) completion.usage = usage;
  return completion;
}
