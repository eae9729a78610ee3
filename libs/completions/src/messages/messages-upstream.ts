// One attempt of /v1/messages: an Anthropic upstream gets the request as sent (near-passthrough); any
// other kind goes through the internal chat shape and back, converted only when such a route is
// tried. Both give the caller the same thing: a message, or a stream of Anthropic events with a meter
// of the tokens they carried.
import type { MeteredUsage } from '@switchyard/catalog';
import {
  AnthropicMessagesRequest,
  ChatCompletionChunk,
  ChatRequest,
  PROVIDER_ADAPTERS,
  SseEvent,
  UpstreamMalformedError,
  nativeMessageResult,
  nativeMessagesCall,
  nativeStreamMeter,
  sseEvents,
  type CancelSignal,
} from '@switchyard/providers';
import {
  Attempt,
  ClientGoneError,
  MAX_UNCOMMITTED_CHUNKS,
  UpstreamRouter,
  liveContext,
  midStreamError,
  readyToCommit,
} from '@switchyard/routing';
import { completionUsage, meteredFrom, toOpenAIUsage } from '../chat/chat-usage';
import { countChatInput, countText } from '../token-count';
import { countMessageOutput, countMessagesInput } from './messages-count';
import { messagesRequestToChat } from './messages-request';
import { chatCompletionToMessage } from './messages-response';
import { chatChunksToMessageEvents } from './messages-stream';

export interface AnthropicEvent {
  type: string;
  data: unknown;
}

/** A /v1/messages request as the attempts need it. */
export interface MessagesInput {
  msg: AnthropicMessagesRequest;
  /** the client's anthropic-beta header, for Anthropic upstreams */
  beta?: string;
  /**
   * The internal chat shape, converted on first use and kept. Throws AdapterRequestError when the
   * request has no chat equivalent (a server tool...): that attempt fails, an Anthropic route may not.
   */
  chat(): ChatRequest;
  /** the prompt counted with the tokenizer, on the raw request (computed once) */
  countedInput(): number;
}

export function messagesInput(msg: AnthropicMessagesRequest, beta?: string): MessagesInput {
  let converted: { chat: ChatRequest } | { error: unknown } | undefined;
  let counted: number | undefined;
  return {
    msg,
    beta,
    chat() {
      if (!converted) {
        try {
          converted = { chat: messagesRequestToChat(msg) };
        } catch (error) {
          converted = { error };
        }
      }
      if ('error' in converted) throw converted.error;
      return converted.chat;
    },
    countedInput: () => (counted ??= countMessagesInput(msg)),
  };
}

export interface MessageStream {
  attempt: Attempt;
  first: AnthropicEvent[];
  rest: AsyncGenerator<AnthropicEvent[]>;
  /** what to bill: reported by the upstream where it did, counted where it did not or the stream was cut */
  usage(): MeteredUsage;
  /** events that close the stream once it ended normally (converted path only) */
  finish(usage: MeteredUsage): AnthropicEvent[];
}

export async function messageOnce(router: UpstreamRouter, a: Attempt, input: MessagesInput, signal: CancelSignal) {
  const { msg } = input;
  if (a.target.kind === 'anthropic') {
    const body = await router.sendForBody(
      a,
      nativeMessagesCall(msg, a.target, { stream: false, beta: input.beta }),
      signal,
      PROVIDER_ADAPTERS.anthropic.chat.mapError,
    );
    const { message, usage } = nativeMessageResult(body, msg.model);
    if (usage) return { attempt: a, message, usage: usage as MeteredUsage };
    // no usage from the upstream: count it, and tell the client the same numbers it is charged for
    const counted: MeteredUsage = {
      inputTokens: input.countedInput(),
      cachedInputTokens: 0,
      outputTokens: countMessageOutput(message.content),
    };
    message.usage = { input_tokens: counted.inputTokens, output_tokens: counted.outputTokens };
    return { attempt: a, message, usage: counted };
  }
  const chat = input.chat();
  const adapter = PROVIDER_ADAPTERS[a.target.kind].chat;
  const body = await router.sendForBody(
    a,
    adapter.toUpstream(a.depth ? { ...chat, model: a.model.id } : chat, a.target, { stream: false }),
    signal,
    adapter.mapError,
  );
  const completion = adapter.fromUpstream(body, liveContext, { model: msg.model });
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
  input: MessagesInput,
  signal: CancelSignal,
): Promise<MessageStream> {
  return a.target.kind === 'anthropic'
    ? nativeStreamOnce(router, a, input, signal)
    : convertedStreamOnce(router, a, input, signal);
}

async function nativeStreamOnce(
  router: UpstreamRouter,
  a: Attempt,
  input: MessagesInput,
  signal: CancelSignal,
): Promise<MessageStream> {
  const res = await router.send(
    a,
    nativeMessagesCall(input.msg, a.target, { stream: true, beta: input.beta }),
    signal,
    PROVIDER_ADAPTERS.anthropic.chat.mapError,
  );
  const meter = nativeStreamMeter(input.msg.model);
  // An upstream without usage: message_start and message_delta get the counted numbers, so the
  // client sees what it is charged for (and the SDK, which expects usage there, does not break).
  const push = (ev: SseEvent) => {
    const out = meter.push(ev);
    if (out?.type === 'message_start' && isRecord(out.data.message)) {
      const u = isRecord(out.data.message.usage) ? out.data.message.usage : {};
      if (typeof u.input_tokens !== 'number')
        out.data.message.usage = { ...u, input_tokens: input.countedInput(), output_tokens: num(u.output_tokens) };
    } else if (out?.type === 'message_delta') {
      const u = isRecord(out.data.usage) ? out.data.usage : {};
      if (typeof u.output_tokens !== 'number') out.data.usage = { ...u, output_tokens: countText(meter.producedText) };
    }
    return out;
  };
  const events = sseEvents(res.body);
  // held back until part of an answer came: an overloaded_error right after message_start still falls back
  const first = await firstUntil(events, push, nativeAnswerStarted, res.body);
  return {
    attempt: a,
    first,
    rest: relay(
      events,
      push,
      () => {
        if (!meter.complete) throw new UpstreamMalformedError('the upstream stream ended before message_stop');
        return [];
      },
      res.body,
      signal,
      a,
    ),
    usage: () => {
      const u = meter.usage;
      // message_start reports a placeholder output count: a stream cut short pays for what it delivered
      const outputTokens =
        meter.complete && u.outputTokens !== undefined
          ? u.outputTokens
          : Math.max(u.outputTokens ?? 0, countText(meter.producedText));
      return {
        inputTokens: u.inputTokens ?? input.countedInput(),
        cachedInputTokens: u.cachedInputTokens ?? 0,
        outputTokens,
      };
    },
    finish: () => [],
  };
}

async function convertedStreamOnce(
  router: UpstreamRouter,
  a: Attempt,
  input: MessagesInput,
  signal: CancelSignal,
): Promise<MessageStream> {
  const { msg } = input;
  const chat = input.chat();
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
  // the same commit point as /v1/chat/completions: until a chunk carries an answer, a failure falls back
  const held = await firstUntil(upstream, (ev) => chunks.push(ev), readyToCommit, res.body);
  const first = toEvents(held);
  return {
    attempt: a,
    first,
    rest: relay(
      upstream,
      (ev) => toEvents(chunks.push(ev)),
      () => toEvents(chunks.end()),
      res.body,
      signal,
      a,
    ),
    usage: () =>
      usage ?? { inputTokens: countChatInput(chat), cachedInputTokens: 0, outputTokens: countText(produced.join('')) },
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Anthropic events: a content delta, message_delta or message_stop is part of an answer. */
function nativeAnswerStarted(buffered: readonly AnthropicEvent[]): boolean {
  return (
    buffered.length >= MAX_UNCOMMITTED_CHUNKS ||
    buffered.some((e) => e.type === 'content_block_delta' || e.type === 'message_delta' || e.type === 'message_stop')
  );
}

/**
 * Reads and maps events until `ready` says the buffered values may go to the client. A failure (or an
 * end) before that is thrown to the router, which may still try the next route.
 */
async function firstUntil<T>(
  events: AsyncGenerator<SseEvent>,
  map: (e: SseEvent) => T | T[] | null,
  ready: (buffered: readonly T[]) => boolean,
  body: { destroy(): void },
): Promise<T[]> {
  const buffered: T[] = [];
  try {
    for (;;) {
      const n = await events.next();
      if (n.done) {
        if (!buffered.length) throw new UpstreamMalformedError('the stream ended before any event');
        return buffered;
      }
      const v = map(n.value);
      if (v === null) continue;
      if (Array.isArray(v)) buffered.push(...v);
      else buffered.push(v);
      if (buffered.length && ready(buffered)) return buffered;
    }
  } catch (e) {
    body.destroy();
    throw e;
  }
}

async function* relay<T>(
  events: AsyncGenerator<SseEvent>,
  map: (e: SseEvent) => T | T[] | null,
  end: () => T[],
  body: { destroy(): void },
  signal: CancelSignal,
  a: Attempt,
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
    throw midStreamError(e, a.target); // redacts the route's own key and host
  } finally {
    body.destroy();
  }
}
