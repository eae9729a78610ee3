// OpenAI-compatible answers pass through, with the client's model alias echoed and the fields the
// spec requires filled in where lenient servers leave them out.
import { UpstreamStreamError } from '../errors';
import { isRecord, sanitizeMessage } from '../sanitize';
import {
  AdapterContext,
  ChatCompletion,
  ChatCompletionChunk,
  ChatResultMeta,
  ChatStreamMapper,
  EmbeddingRequest,
  EmbeddingResponse,
  SseEvent,
  UpstreamMalformedError,
} from '../types';

export function openaiChatResponse(body: unknown, ctx: AdapterContext, meta: ChatResultMeta): ChatCompletion {
  if (!isRecord(body) || !Array.isArray(body.choices))
    throw new UpstreamMalformedError('chat completion without choices');
  const out = body as unknown as ChatCompletion;
  out.model = meta.model;
  out.object = 'chat.completion';
  if (typeof out.id !== 'string') out.id = ctx.newId('chatcmpl');
  if (typeof out.created !== 'number') out.created = Math.floor(ctx.now() / 1000);
  for (const c of out.choices) {
    if (!isRecord(c) || !isRecord(c.message))
      throw new UpstreamMalformedError('chat completion choice without message');
    c.message.role = 'assistant';
    if (c.message.content === undefined) c.message.content = null;
    if (c.message.refusal === undefined) c.message.refusal = null;
    if (c.logprobs === undefined) c.logprobs = null;
    if (c.finish_reason == null) c.finish_reason = c.message.tool_calls?.length ? 'tool_calls' : 'stop';
  }
  return out;
}

export function openaiStreamMapper(ctx: AdapterContext, meta: ChatResultMeta): ChatStreamMapper {
  /** choice index -> whether its finish_reason came: a stream is whole only when every choice finished */
  const finished = new Map<number, boolean>();
  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      const data = event.data.trim();
      if (!data || data === '[DONE]') return [];
      let chunk: unknown;
      try {
        chunk = JSON.parse(data);
      } catch {
        throw new UpstreamMalformedError('stream event is not JSON');
      }
      if (isRecord(chunk) && isRecord(chunk.error)) {
        const msg = typeof chunk.error.message === 'string' ? sanitizeMessage(chunk.error.message) : '';
        throw new UpstreamStreamError(
          msg ? `the upstream provider failed mid-stream: ${msg}` : 'the upstream provider failed mid-stream',
        );
      }
      if (!isRecord(chunk) || !Array.isArray(chunk.choices))
        throw new UpstreamMalformedError('stream chunk without choices');
      const c = chunk as unknown as ChatCompletionChunk;
      c.model = meta.model;
      c.object = 'chat.completion.chunk';
      if (typeof c.created !== 'number') c.created = Math.floor(ctx.now() / 1000);
      for (const ch of c.choices) {
        const index = typeof ch?.index === 'number' ? ch.index : 0;
        if (!finished.get(index)) finished.set(index, ch?.finish_reason != null);
      }
      return [c];
    },
    end(): ChatCompletionChunk[] {
      // A clean end without a finish_reason (a proxy or server cut the answer short) is no answer: the
      // client must see an error, not [DONE] on a truncated text.
      if (finished.size === 0 || [...finished.values()].includes(false)) {
        throw new UpstreamStreamError('the upstream stream ended before the response was complete');
      }
      return [];
    },
  };
}

export function openaiEmbeddingsResponse(
  body: unknown,
  _req: EmbeddingRequest,
  meta: ChatResultMeta,
): EmbeddingResponse {
  if (!isRecord(body) || !Array.isArray(body.data)) throw new UpstreamMalformedError('embeddings answer without data');
  const out = body as unknown as EmbeddingResponse;
  out.model = meta.model;
  out.object = 'list';
  // no usage rather than zeros: the gateway counts the input itself when the upstream reported none
  if (!isRecord(out.usage)) delete out.usage;
  return out;
}
