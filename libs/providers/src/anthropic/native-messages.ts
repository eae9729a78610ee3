// /v1/messages to an Anthropic upstream: near-passthrough, so everything Anthropic-specific the client
// sends (cache_control, thinking, top_k, citations, server tools, output formats) reaches Claude
// untouched. The gateway only swaps the model, authenticates, forwards the client's betas, and reads
// the usage to bill it.
import { sanitizeMessage } from '../sanitize';
import { UpstreamStreamError } from '../errors';
import { UpstreamMalformedError, type RouteTarget, type SseEvent, type UpstreamCall } from '../types';
import { anthropicHeaders, anthropicUrl } from './chat.request';
import { isRecord } from './chat.response';
import type { AnthropicMessagesRequest } from './types';

export interface NativeUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
}

export interface NativeCallOptions {
  /** count_tokens takes the client's body as sent too (it has no stream flag) */
  endpoint?: 'messages' | 'count_tokens';
  stream?: boolean;
  /** the client's anthropic-beta header: features in beta only work when it travels with the body */
  beta?: string;
}

export function nativeMessagesCall(
  req: AnthropicMessagesRequest,
  target: RouteTarget,
  opts: NativeCallOptions = {},
): UpstreamCall {
  const count = opts.endpoint === 'count_tokens';
  const body: Record<string, unknown> = { ...req, model: target.upstreamModel };
  if (!count) body.stream = opts.stream === true;
  for (const p of target.quirks?.drop_params ?? []) delete body[p];
  const headers = anthropicHeaders(target);
  if (opts.beta) {
    // the catalog's own betas (quirks.headers) stay, the client's are added
    const name = Object.keys(headers).find((h) => h.toLowerCase() === 'anthropic-beta') ?? 'anthropic-beta';
    headers[name] = headers[name] ? `${headers[name]},${opts.beta}` : opts.beta;
  }
  return {
    method: 'POST',
    url: anthropicUrl(target, count ? '/v1/messages/count_tokens' : '/v1/messages'),
    headers,
    body,
  };
}

function usageOf(u: unknown): Partial<NativeUsage> {
  if (!isRecord(u)) return {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const cacheRead = n(u.cache_read_input_tokens);
  const out: Partial<NativeUsage> = {};
  if (typeof u.input_tokens === 'number') {
    out.inputTokens = n(u.input_tokens) + cacheRead + n(u.cache_creation_input_tokens);
    out.cachedInputTokens = cacheRead;
  }
  if (typeof u.output_tokens === 'number') out.outputTokens = n(u.output_tokens);
  return out;
}

/**
 * The upstream's message, with the client's alias as `model`, and its usage for billing: undefined
 * when the upstream did not report both counts, so the gateway counts them instead of charging zero.
 */
export function nativeMessageResult(
  body: unknown,
  alias: string,
): { message: Record<string, unknown>; usage: NativeUsage | undefined } {
  if (!isRecord(body) || body.type !== 'message' || !Array.isArray(body.content))
    throw new UpstreamMalformedError('not a message');
  const u = usageOf(body.usage);
  body.model = alias;
  const usage =
    u.inputTokens !== undefined && u.outputTokens !== undefined
      ? { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens ?? 0, outputTokens: u.outputTokens }
      : undefined;
  return { message: body, usage };
}

/**
 * Reads a native event stream as it passes: rewrites the model in message_start, keeps the latest usage
 * the upstream reported (input at message_start, output at message_delta) and the text produced, for a
 * stream cut short or one without usage.
 */
export function nativeStreamMeter(alias: string) {
  const usage: Partial<NativeUsage> = {};
  const produced: string[] = [];
  let done = false;
  return {
    /** the event to forward (re-serialised), or null to drop it */
    push(ev: SseEvent): { type: string; data: Record<string, unknown> } | null {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        throw new UpstreamMalformedError('stream event is not JSON');
      }
      if (!isRecord(data) || typeof data.type !== 'string')
        throw new UpstreamMalformedError('stream event without type');
      if (data.type === 'message_start' && isRecord(data.message)) {
        data.message.model = alias;
        Object.assign(usage, usageOf(data.message.usage));
      } else if (data.type === 'message_delta') {
        const u = usageOf(data.usage);
        if (u.outputTokens !== undefined) usage.outputTokens = u.outputTokens;
        if (u.inputTokens !== undefined && u.inputTokens > 0)
          Object.assign(usage, { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens });
      } else if (data.type === 'content_block_delta' && isRecord(data.delta)) {
        const d = data.delta;
        if (typeof d.text === 'string') produced.push(d.text);
        else if (typeof d.partial_json === 'string') produced.push(d.partial_json);
        else if (typeof d.thinking === 'string') produced.push(d.thinking);
      } else if (data.type === 'message_stop') {
        done = true;
      } else if (data.type === 'error') {
        // thrown, not forwarded: before the first content the router falls back; after it, the client
        // gets one error event with a sanitized message (the upstream's text may name hosts or keys)
        const err = isRecord(data.error) ? data.error : {};
        const message = typeof err.message === 'string' ? sanitizeMessage(err.message) : '';
        throw new UpstreamStreamError(message || 'the upstream provider reported an error during the stream');
      }
      return { type: data.type, data };
    },
    /** only what the upstream reported: a count it left out stays undefined */
    get usage(): Partial<NativeUsage> {
      return usage;
    },
    get producedText(): string {
      return produced.join('');
    },
    get complete(): boolean {
      return done;
    },
  };
}
