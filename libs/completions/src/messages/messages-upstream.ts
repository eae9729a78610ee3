// One attempt of /v1/messages: an Anthropic upstream gets the request as sent (near-passthrough); any
// other kind goes through the internal chat shape and back. Both give the caller the same thing: a
// message, or a stream of Anthropic events with a meter of the tokens they carried.
import type { MeteredUsage } from '@switchyard/catalog';
import {
  AnthropicMessagesRequest,
  ChatCompletionChunk,
  ChatRequest,
  PROVIDER_ADAPTERS,
  UpstreamMalformedError,
  nativeMessageResult,
  nativeMessagesCall,
  nativeStreamMeter,
  readBody,
  sseEvents,
} from '@switchyard/providers';
import { Attempt, ClientGoneError, UpstreamRouter, liveContext, midStreamError } from '@switchyard/routing';
import { completionUsage, meteredFrom, toOpenAIUsage } from '../chat/chat-usage';
import { countChatInput } from '../token-count';
import { chatCompletionToMessage } from './messages-response';
import { chatChunksToMessageEvents } from './messages-stream';

export interface AnthropicEvent {
  type: string;
  data: unknown;
}

export interface MessageStream {
  attempt: Attempt;
  first: AnthropicEvent[];
  rest: AsyncGenerator<AnthropicEvent[]>;
  /** usage reported so far (complete once the stream ended normally) */
  reported(): MeteredUsage | undefined;
  producedText(): string;
  /** events that close the stream when the upstream gave no usage (converted path only) */
  finish(usage: MeteredUsage): AnthropicEvent[];
}

export async function messageOnce(
  router: UpstreamRouter,
  a: Attempt,
  msg: AnthropicMessagesRequest,
  chat: ChatRequest,
  signal: AbortSignal,
) {
  if (a.target.kind === 'anthropic') {
    const res = await router.send(
      a,
      nativeMessagesCall(msg, a.target, false),
      signal,
      PROVIDER_ADAPTERS.anthropic.chat.mapError,
    );
    const { message, usage } = nativeMessageResult(await readBody(res.body), msg.model);
    return { attempt: a, message, usage: usage as MeteredUsage };
  }
  const adapter = PROVIDER_ADAPTERS[a.target.kind].chat;
  const res = await router.send(
    a,
    adapter.toUpstream(a.depth ? { ...chat, model: a.model.id } : chat, a.target, { stream: false }),
    signal,
    adapter.mapError,
  );
  const completion = adapter.fromUpstream(await readBody(res.body), liveContext, { model: msg.model });
  const usage = completionUsage(chat, completion);
  return {
    attempt: a,
    message: chatCompletionToMessage(completion, msg.model, liveContext) as unknown as Record<string, unknown>,
    usage,
  };
}

export async function messageStreamOnce(
  router: UpstreamRouter,
  a: Attempt,
  msg: AnthropicMessagesRequest,
  chat: ChatRequest,
  signal: AbortSignal,
): Promise<MessageStream> {
  if (a.target.kind === 'anthropic') {
    const res = await router.send(
      a,
      nativeMessagesCall(msg, a.target, true),
      signal,
      PROVIDER_ADAPTERS.anthropic.chat.mapError,
    );
    const meter = nativeStreamMeter(msg.model);
    const events = sseEvents(res.body);
    const first = await firstOf(events, (ev) => meter.push(ev), res.body);
    return {
      attempt: a,
      first: [first],
      rest: relay(
        events,
        (ev) => meter.push(ev),
        () => {
          if (!meter.complete) throw new UpstreamMalformedError('the upstream stream ended before message_stop');
          return [];
        },
        res.body,
        signal,
      ),
      reported: () => {
        const u = meter.usage;
        return u.inputTokens !== undefined && u.outputTokens !== undefined ? (u as MeteredUsage) : undefined;
      },
      producedText: () => meter.producedText,
      finish: () => [],
    };
  }
  const adapter = PROVIDER_ADAPTERS[a.target.kind].chat;
  const res = await router.send(
    a,
    adapter.toUpstream(a.depth ? { ...chat, model: a.model.id } : chat, a.target, { stream: true }),
    signal,
    adapter.mapError,
  );
  const chunks = adapter.streamMapper(liveContext, { model: msg.model });
  const events = chatChunksToMessageEvents(msg.model, liveContext, countChatInput(chat));
  let usage: MeteredUsage | undefined;
  const produced: string[] = [];
  const toEvents = (cs: ChatCompletionChunk[]): AnthropicEvent[] => {
    const out: AnthropicEvent[] = [];
    for (const c of cs) {
      if (c.usage) usage = meteredFrom(c.usage) ?? usage;
      for (const ch of c.choices) {
        if (typeof ch.delta.content === 'string') produced.push(ch.delta.content);
        for (const t of ch.delta.tool_calls ?? []) produced.push(t.function?.arguments ?? '');
      }
      for (const ev of events.push(c)) out.push({ type: ev.type, data: ev });
    }
    return out;
  };
  const upstream = sseEvents(res.body);
  let first: AnthropicEvent[] = [];
  try {
    while (!first.length) {
      const n = await upstream.next();
      if (n.done) throw new UpstreamMalformedError('the stream ended before any chunk');
      first = toEvents(chunks.push(n.value));
    }
  } catch (e) {
    res.body.destroy();
    throw e;
  }
  return {
    attempt: a,
    first,
    rest: relay(
      upstream,
      (ev) => toEvents(chunks.push(ev)),
      () => toEvents(chunks.end()),
      res.body,
      signal,
    ),
    reported: () => usage,
    producedText: () => produced.join(''),
    finish: (u) => {
      const out: AnthropicEvent[] = [];
      if (!usage)
        for (const ev of events.push({
          id: '',
          object: 'chat.completion.chunk',
          created: 0,
          model: msg.model,
          choices: [],
          usage: toOpenAIUsage(u),
        }))
          out.push({ type: ev.type, data: ev });
      for (const ev of events.end()) out.push({ type: ev.type, data: ev });
      return out;
    },
  };
}

async function firstOf<T>(
  events: AsyncGenerator<import('@switchyard/providers').SseEvent>,
  map: (e: import('@switchyard/providers').SseEvent) => T | null,
  body: { destroy(): void },
): Promise<T> {
  try {
    for (;;) {
      const n = await events.next();
      if (n.done) throw new UpstreamMalformedError('the stream ended before any event');
      const v = map(n.value);
      if (v !== null) return v;
    }
  } catch (e) {
    body.destroy();
    throw e;
  }
}

async function* relay<T>(
  events: AsyncGenerator<import('@switchyard/providers').SseEvent>,
  map: (e: import('@switchyard/providers').SseEvent) => T | T[] | null,
  end: () => T[],
  body: { destroy(): void },
  signal: AbortSignal,
): AsyncGenerator<T[]> {
  try {
    for await (const ev of { [Symbol.asyncIterator]: () => events }) {
      const v = map(ev);
      if (v === null) continue;
      const list = Array.isArray(v) ? v : [v];
      if (list.length) yield list;
    }
    const tail = end();
    if (tail.length) yield tail;
  } catch (e) {
    if (signal.aborted) throw new ClientGoneError();
    throw midStreamError(e);
  } finally {
    body.destroy();
  }
}
