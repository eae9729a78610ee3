// OpenAI chat request -> Anthropic Messages request (POST {baseUrl}/v1/messages).
import type { ChatRequest, RouteTarget, UpstreamCall } from '../types';
import { AdapterRequestError } from '../errors';
import { toAnthropicConversation } from './chat.messages';
import { isJsonMode, JSON_MODE_TOOL_NAME, jsonModeTool, toAnthropicToolChoice } from './json-mode';
import type { AnthropicMessagesRequest, AnthropicTool } from './types';

export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; the gateway normally sets it (balance cap), this covers direct callers. */
export const DEFAULT_MAX_TOKENS = 4096;

export function anthropicUrl(target: RouteTarget, path: string): string {
  return `${target.baseUrl.replace(/\/+$/, '')}${path}`;
}

export function anthropicHeaders(target: RouteTarget): Record<string, string> {
  return {
    'content-type': 'application/json',
    'anthropic-version': ANTHROPIC_VERSION,
    ...(target.quirks?.headers ?? {}),
    ...(target.apiKey ? { 'x-api-key': target.apiKey } : {}),
  };
}

/** The Anthropic body for a chat request, before endpoint-specific fields (stream) and catalog quirks. */
export function toAnthropicRequest(req: ChatRequest, model: string): AnthropicMessagesRequest {
  if (typeof req.n === 'number' && req.n > 1) {
    throw new AdapterRequestError('n > 1 is not supported by this model', 'n');
  }
  const { system, messages } = toAnthropicConversation(req.messages);
  const clientTools = (req.tools ?? []).map(toAnthropicTool);
  const tools = isJsonMode(req.response_format) ? [...clientTools, jsonModeTool(req.response_format)] : clientTools;
  const toolChoice = toAnthropicToolChoice(req, clientTools.length > 0);
  const stop =
    typeof req.stop === 'string' ? [req.stop] : (req.stop ?? []).filter((s) => typeof s === 'string' && s !== '');

  const body: AnthropicMessagesRequest = {
    model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system) body.system = system;
  // OpenAI allows 0..2, Anthropic 0..1: clamped rather than scaled, so 0.7 means the same on both.
  if (typeof req.temperature === 'number') body.temperature = Math.min(1, Math.max(0, req.temperature));
  if (typeof req.top_p === 'number') body.top_p = req.top_p;
  if (stop.length > 0) body.stop_sequences = stop;
  if (tools.length > 0) body.tools = tools;
  if (toolChoice) body.tool_choice = toolChoice;
  if (req.user) body.metadata = { user_id: req.user };
  return body;
}

function toAnthropicTool(tool: unknown, i: number): AnthropicTool {
  const t = tool as { type?: unknown; function?: { name?: unknown; description?: unknown; parameters?: unknown } };
  if (t?.type !== 'function' || typeof t.function?.name !== 'string') {
    throw new AdapterRequestError('only function tools are supported by this model', `tools[${i}]`);
  }
  if (t.function.name === JSON_MODE_TOOL_NAME) {
    throw new AdapterRequestError(`the tool name ${JSON_MODE_TOOL_NAME} is reserved`, `tools[${i}].function.name`);
  }
  const parameters = t.function.parameters;
  return {
    name: t.function.name,
    ...(typeof t.function.description === 'string' ? { description: t.function.description } : {}),
    // Anthropic requires an object schema even for tools without parameters
    input_schema:
      parameters && typeof parameters === 'object'
        ? (parameters as Record<string, unknown>)
        : { type: 'object', properties: {} },
  };
}

/** Catalog quirks: fields a given Anthropic-compatible upstream refuses (e.g. top_p next to temperature). */
export function applyDropParams<T extends object>(body: T, target: RouteTarget): T {
  const drop = target.quirks?.drop_params;
  if (!drop || drop.length === 0) return body;
  const copy = { ...body } as Record<string, unknown>;
  for (const key of drop) delete copy[key];
  return copy as unknown as T;
}

export function toUpstream(req: ChatRequest, target: RouteTarget, opts: { stream: boolean }): UpstreamCall {
  const body = toAnthropicRequest(req, target.upstreamModel);
  if (opts.stream) body.stream = true;
  return {
    method: 'POST',
    url: anthropicUrl(target, '/v1/messages'),
    headers: anthropicHeaders(target),
    body: applyDropParams(body, target),
  };
}
