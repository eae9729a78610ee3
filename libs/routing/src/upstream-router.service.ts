// Calls upstreams along a route plan: each attempt goes through its adapter and the shared transport;
// a connect error, timeout, 429, 5xx or unusable answer moves on to the next route or fallback, as long
// as nothing reached the client yet. What the adapter calls final (a 400 about the request itself, a
// refused credential) stops the chain.
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, GatewayError, MetricsService } from '@switchyard/core';
import {
  AdapterRequestError,
  BufferedResponse,
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ChatResultMeta,
  EmbeddingRequest,
  EmbeddingResponse,
  PROVIDER_ADAPTERS,
  ProviderAdapter,
  RouteTarget,
  TransportError,
  UpstreamCall,
  UpstreamMalformedError,
  UpstreamResponse,
  UpstreamStreamError,
  UpstreamTransport,
  ERROR_BODY_BYTES,
  classifyTransportError,
  readBody,
  sseEventBatches,
  SseEvent,
  type CancelSignal,
} from '@switchyard/providers';
import { liveContext } from './adapter-context';
import type { Attempt } from './route-plan';
import { redactBodyForRoute, redactForRoute } from './route-secrets';
import { readyToCommit } from './stream-commit';

export interface Served {
  attempt: Attempt;
}

export interface ChatStream extends Served {
  /** chunks held back until the route committed: at least one, up to the first carrying part of the answer */
  first: ChatCompletionChunk[];
  /** the rest of the stream; throws GatewayError on an upstream failure mid-stream */
  rest: AsyncGenerator<ChatCompletionChunk[]>;
}

/** The client went away: nothing to answer, the caller only settles. */
export class ClientGoneError extends Error {
  constructor() {
    super('client closed the connection');
  }
}

interface Failure {
  code: 'upstream_error' | 'upstream_timeout';
  message: string;
}

@Injectable()
export class UpstreamRouter implements OnApplicationShutdown {
  readonly transport: UpstreamTransport;

  constructor(
    config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.transport = new UpstreamTransport({ connectTimeoutMs: config.upstreamConnectTimeoutMs });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }

  adapter(a: Attempt): ProviderAdapter {
    return PROVIDER_ADAPTERS[a.target.kind];
  }

  async chat(
    req: ChatRequest,
    attempts: Attempt[],
    meta: ChatResultMeta,
    signal: CancelSignal,
  ): Promise<Served & { completion: ChatCompletion }> {
    return this.tryEach(attempts, signal, async (a) => {
      const adapter = this.adapter(a).chat;
      const call = adapter.toUpstream(withModel(req, a), a.target, { stream: false });
      const body = await this.sendForBody(a, call, signal, adapter.mapError);
      return { attempt: a, completion: adapter.fromUpstream(body, liveContext, resultMeta(req, meta)) };
    });
  }

  async chatStream(
    req: ChatRequest,
    attempts: Attempt[],
    meta: ChatResultMeta,
    signal: CancelSignal,
  ): Promise<ChatStream> {
    return this.tryEach(attempts, signal, async (a) => {
      const adapter = this.adapter(a).chat;
      const call = adapter.toUpstream(withModel(req, a), a.target, { stream: true });
      const res = await this.send(a, call, signal, adapter.mapError);
      const mapper = adapter.streamMapper(liveContext, resultMeta(req, meta));
      const batches = sseEventBatches(res.body);
      // Hold chunks back until one carries part of the answer: until then nothing reached the client, and
      // a failing stream (an error event right after Anthropic's message_start) can still fall back.
      // Events that arrived with the committing one are mapped after it, as the stream's next part.
      const first: ChatCompletionChunk[] = [];
      let after: SseEvent[] = [];
      let ended = false;
      try {
        while (!readyToCommit(first)) {
          const next = await batches.next();
          if (next.done) {
            ended = true;
            first.push(...mapper.end());
            if (!first.length) throw new UpstreamMalformedError('the stream ended before any chunk');
            break;
          }
          for (let i = 0; i < next.value.length; i++) {
            first.push(...mapper.push(next.value[i]));
            if (readyToCommit(first)) {
              after = next.value.slice(i + 1);
              break;
            }
          }
        }
      } catch (e) {
        res.body.destroy();
        throw e;
      }
      const rest = (async function* (): AsyncGenerator<ChatCompletionChunk[]> {
        try {
          if (ended) return;
          // what arrived together goes out together; what was mapped before a failing event still goes first
          const mapped = function* (events: SseEvent[]): Generator<ChatCompletionChunk[]> {
            const out: ChatCompletionChunk[] = [];
            try {
              for (const ev of events) out.push(...mapper.push(ev));
            } catch (e) {
              if (out.length) yield out;
              throw e;
            }
            if (out.length) yield out;
          };
          yield* mapped(after);
          for await (const events of { [Symbol.asyncIterator]: () => batches }) yield* mapped(events);
          const tail = mapper.end();
          if (tail.length) yield tail;
        } catch (e) {
          if (signal.aborted) throw new ClientGoneError();
          throw midStreamError(e, a.target);
        } finally {
          res.body.destroy();
        }
      })();
      return { attempt: a, first, rest };
    });
  }

  async embeddings(
    req: EmbeddingRequest,
    attempts: Attempt[],
    meta: ChatResultMeta,
    signal: CancelSignal,
  ): Promise<Served & { response: EmbeddingResponse }> {
    return this.tryEach(attempts, signal, async (a) => {
      const adapter = this.adapter(a).embeddings;
      if (!adapter) throw new AdapterRequestError(`provider kind ${a.target.kind} has no embeddings`);
      const call = adapter.toUpstream({ ...req, model: a.target.upstreamModel }, a.target);
      const body = await this.sendForBody(a, call, signal, adapter.mapError);
      return { attempt: a, response: adapter.fromUpstream(body, req, meta) };
    });
  }

  /** Sends one call for its stream; a non-2xx answer becomes a typed error (bad_request stops, the rest fall through). */
  async send(
    a: Attempt,
    call: UpstreamCall,
    signal: CancelSignal,
    mapError: ProviderAdapter['chat']['mapError'],
  ): Promise<UpstreamResponse> {
    const started = process.hrtime.bigint();
    let res: UpstreamResponse;
    try {
      res = await this.transport.send(call, { timeoutMs: a.target.timeoutMs, signal });
    } catch (e) {
      this.observe(a, started, 'network');
      throw e;
    }
    if (res.status >= 200 && res.status < 300) {
      this.observe(a, started, 'ok');
      return res;
    }
    this.observe(a, started, String(res.status));
    throw refusal(a, res.status, await readBody(res.body, ERROR_BODY_BYTES).catch(() => ''), mapError);
  }

  /** Sends one call and returns its whole answer (the non-stream paths); errors as send(). */
  async sendForBody(
    a: Attempt,
    call: UpstreamCall,
    signal: CancelSignal,
    mapError: ProviderAdapter['chat']['mapError'],
  ): Promise<unknown> {
    const started = process.hrtime.bigint();
    let res: BufferedResponse;
    try {
      res = await this.transport.sendBuffered(call, { timeoutMs: a.target.timeoutMs, signal });
    } catch (e) {
      this.observe(a, started, 'network');
      throw e;
    }
    const ok = res.status >= 200 && res.status < 300;
    this.observe(a, started, ok ? 'ok' : String(res.status), res.headersAt);
    if (ok) return res.body;
    throw refusal(a, res.status, res.body, mapError);
  }

  /** upstream_request_duration_seconds: until the response headers */
  private observe(a: Attempt, started: bigint, outcome: string, headersAt = process.hrtime.bigint()): void {
    this.metrics.upstreamDuration.observe(
      { provider: a.target.providerId, outcome },
      Number(headersAt - started) / 1e9,
    );
  }

  /** Tries each attempt in order; returns the first success or throws the reason they all failed. */
  async tryEach<T extends Served>(
    attempts: Attempt[],
    signal: CancelSignal,
    one: (a: Attempt) => Promise<T>,
  ): Promise<T> {
    if (!attempts.length) throw new GatewayError('upstream_error', 'No upstream route is available for this model.');
    let last: Failure | undefined;
    let requestError: GatewayError | undefined;
    for (const a of attempts) {
      if (signal.aborted) throw new ClientGoneError();
      try {
        const served = await one(a);
        if (a !== attempts[0]) this.metrics.fallbacks.inc({ model: attempts[0].model.id });
        return served;
      } catch (e) {
        if (signal.aborted) throw new ClientGoneError();
        if (e instanceof GatewayError) throw e; // the upstream refused the request itself
        if (e instanceof AdapterRequestError) {
          // this upstream cannot express the request; another route's might
          requestError ??= new GatewayError('bad_request', e.message, e.param ?? null);
          continue;
        }
        last = toFailure(e, a.target);
      }
    }
    // a route that failed says more than a fallback that could not express the request: the request was
    // fine for the primary, so the client hears about the outage (502/504), not a 400
    if (last) throw new GatewayError(last.code, last.message);
    throw requestError!;
  }
}

/**
 * A non-2xx answer as the error to throw. The route's own key and address go before the adapter reads
 * the body, and again from its message. DESIGN.md: only connect errors, timeouts, 429 and 5xx move on to
 * the next route; anything else the adapter calls final (the request is wrong, or the upstream refused
 * the gateway's credentials) ends here.
 */
function refusal(
  a: Attempt,
  status: number,
  body: unknown,
  mapError: ProviderAdapter['chat']['mapError'],
): GatewayError | TransportError {
  const info = mapError(status, redactBodyForRoute(body, a.target));
  const message = redactForRoute(info.message, a.target);
  if (!info.retryable || info.code === 'bad_request') return new GatewayError(info.code, message);
  return new TransportError(info.code, message);
}

/** What the adapters' response transforms need to know of the request besides the model alias. */
function resultMeta(req: ChatRequest, meta: ChatResultMeta): ChatResultMeta {
  return req.parallel_tool_calls === false ? { ...meta, parallelToolCalls: false } : meta;
}

function withModel(req: ChatRequest, a: Attempt): ChatRequest {
  return a.depth === 0 ? req : { ...req, model: a.model.id };
}

function toFailure(e: unknown, target?: RouteTarget): Failure {
  const f = ((): Failure => {
    if (e instanceof TransportError) return { code: e.code, message: e.message };
    if (e instanceof UpstreamMalformedError)
      return { code: 'upstream_error', message: 'the upstream provider answered something malformed' };
    if (e instanceof UpstreamStreamError) return { code: 'upstream_error', message: e.message };
    return classifyTransportError(e);
  })();
  // stream error events carry upstream text: the route's own key and address come out of it too
  return target ? { code: f.code, message: redactForRoute(f.message, target) } : f;
}

/** A failure after the stream started, as a client-safe error (never an upstream key or address). */
export function midStreamError(e: unknown, target?: RouteTarget): GatewayError {
  const f = toFailure(e, target);
  return new GatewayError(f.code, f.message);
}
