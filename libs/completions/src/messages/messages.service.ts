// POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API in front of every upstream
// kind. Anthropic routes get the request as sent; other routes get it converted to the internal chat
// shape when they are tried (so what only Claude understands fails only those routes). The same
// pipeline as /v1/chat/completions runs around it, and the answer goes back as JSON or Anthropic's
// event stream.
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayError, IdempotencyService, formatAmount, sendError } from '@switchyard/core';
import { CatalogService, ResolvedModel } from '@switchyard/catalog';
import {
  AnthropicMessagesRequest,
  CountTokensAdapter,
  PROVIDER_ADAPTERS,
  UpstreamCall,
  nativeMessagesCall,
  sseNamed,
} from '@switchyard/providers';
import { Attempt, UpstreamRouter, planAttempts } from '@switchyard/routing';
import { AllowlistsService } from '@switchyard/allowlists';
import {
  GatewayPipeline,
  GatewayRequest,
  SseWriter,
  callOf,
  clientSignal,
  endFailed,
  idempotencyAbandon,
  idempotencyStart,
  markServed,
  pumpStream,
  replyJson,
  servedHeaders,
  validateBody,
} from '@switchyard/pipeline';
import { CountTokensDto, MessagesDto } from './messages.dto';
import { estimateMessagesInputTokens } from './messages-count';
import {
  AnthropicEvent,
  MessageStream,
  MessagesInput,
  messageOnce,
  messageStreamOnce,
  messagesInput,
} from './messages-upstream';

@Injectable()
export class MessagesService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly pipeline: GatewayPipeline,
    private readonly router: UpstreamRouter,
    private readonly allowlists: AllowlistsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  async handle(req: GatewayRequest, res: Response, body: unknown): Promise<void> {
    const call = callOf(req, 'messages');
    const msg = validateBody(MessagesDto, body) as AnthropicMessagesRequest;
    call.modelRequested = msg.model;
    const model = this.catalog.resolve(msg.model);
    checkMessagesServes(model, msg);
    const input = messagesInput(msg, betaOf(req));
    call.stream = msg.stream === true;
    const idem = call.stream ? null : await idempotencyStart(this.idempotency, req, res, body);
    if (idem === 'replayed') return;
    const adm = await this.pipeline
      .admit({
        req,
        call,
        key: call.key!,
        model,
        requestedName: msg.model,
        inputTokens: estimateMessagesInputTokens(msg),
        clientMaxOutput: msg.max_tokens,
      })
      .catch(async (e: unknown) => {
        await idempotencyAbandon(this.idempotency, idem);
        throw e;
      });
    const signal = clientSignal(res);
    if (!call.stream) {
      try {
        const served = await this.router.tryEach(adm.attempts, signal, (a) =>
          messageOnce(this.router, a, input, signal),
        );
        call.modelUsed = served.attempt.model.id;
        call.providerId = served.attempt.target.providerId;
        call.fallbackDepth = served.attempt.depth;
        const cost = await this.pipeline.finish(adm, served.attempt.model, served.usage);
        const headers = { ...servedHeaders(adm, served.attempt, msg.model), 'x-credits-used': formatAmount(cost) };
        await replyJson(res, headers, served.message, this.idempotency, idem);
      } catch (e) {
        await idempotencyAbandon(this.idempotency, idem);
        endFailed(this.pipeline, adm, res, e);
      }
      return;
    }

    let served: MessageStream;
    try {
      served = await this.router.tryEach(adm.attempts, signal, (a) => messageStreamOnce(this.router, a, input, signal));
    } catch (e) {
      return endFailed(this.pipeline, adm, res, e);
    }
    markServed(call, served.attempt, req);
    const out = new SseWriter(res);
    out.start(servedHeaders(adm, served.attempt, msg.model));
    // message_delta (the usage) and what follows it wait for the charge, which joins its usage as `cost`
    const tail: AnthropicEvent[] = [];
    const emit = async (events: AnthropicEvent[]) => {
      for (const ev of events)
        if (ev.type === 'message_delta' || tail.length) tail.push(ev);
        else await out.write(sseNamed(ev.type, ev.data));
    };
    const { gone, failure } = await pumpStream(out, served.first, served.rest, emit);
    const usage = served.usage();
    // a vanished client pays for what was produced, never more than its hold
    const cost = await this.pipeline.finish(adm, served.attempt.model, usage, { capAtHold: gone });
    if (gone) return;
    if (!failure) await emit(served.finish(usage));
    for (const { type, data: d } of tail) {
      const u = type === 'message_delta' ? (d as { usage?: object }).usage : undefined;
      await out.write(sseNamed(type, u ? { ...(d as object), usage: { ...u, cost: formatAmount(cost) } } : d));
    }
    if (failure) {
      sendError(req, res, failure);
      return;
    }
    out.end();
  }

  /**
   * Native counting where the route's upstream has it (Anthropic gets the body as sent, Gemini the
   * converted one); a real tokenizer otherwise, or when the upstream cannot answer in time.
   */
  async countTokens(req: GatewayRequest, res: Response, body: unknown): Promise<{ input_tokens: number }> {
    const call = callOf(req, 'messages.count_tokens');
    const msg = validateBody(CountTokensDto, body) as unknown as AnthropicMessagesRequest;
    call.modelRequested = msg.model;
    const model = this.catalog.resolve(msg.model);
    this.allowlists.assertAllowed(call.key!, model, msg.model);
    const input = messagesInput(msg, betaOf(req));
    const client = clientSignal(res);
    for (const a of planAttempts(model, this.catalog, { allowed: () => false })) {
      if (client.aborted) break;
      const upstream = countCall(a, input);
      if (!upstream) continue;
      try {
        // tied to the client like every upstream call, and bounded as a whole by the provider's timeout
        const signal = AbortSignal.any([client.toAbortSignal(), AbortSignal.timeout(a.target.timeoutMs)]);
        const body = await this.router.sendForBody(
          a,
          upstream.call,
          signal,
          PROVIDER_ADAPTERS[a.target.kind].chat.mapError,
        );
        return upstream.adapter.fromUpstream(body);
      } catch (e) {
        // the upstream refused the request itself: the client hears it; anything else counts locally
        if (e instanceof GatewayError && e.code === 'bad_request') throw e;
      }
    }
    return { input_tokens: input.countedInput() };
  }
}

/** The native count call for this route, or null where there is none (or the request does not convert). */
function countCall(a: Attempt, input: MessagesInput): { call: UpstreamCall; adapter: CountTokensAdapter } | null {
  const adapter = PROVIDER_ADAPTERS[a.target.kind].countTokens;
  if (!adapter) return null;
  if (a.target.kind === 'anthropic') {
    const call = nativeMessagesCall(input.msg, a.target, { endpoint: 'count_tokens', beta: input.beta });
    return { call, adapter };
  }
  try {
    return { call: adapter.toUpstream(input.chat(), a.target), adapter };
  } catch {
    return null;
  }
}

function betaOf(req: GatewayRequest): string | undefined {
  const v = req.headers['anthropic-beta'];
  const s = Array.isArray(v) ? v.join(',') : v;
  return s ? s : undefined;
}

/** What the catalog says the model cannot take, read on the request as sent (no conversion). */
export function checkMessagesServes(model: ResolvedModel, msg: AnthropicMessagesRequest): void {
  if (model.kind !== 'chat') {
    throw new GatewayError(
      'bad_request',
      `The model '${msg.model}' is a ${model.kind} model; /v1/messages needs a chat model.`,
      'model',
    );
  }
  if (model.capabilities.vision === false) {
    msg.messages.forEach((m, i) => {
      if (Array.isArray(m.content) && m.content.some(hasImage))
        throw new GatewayError(
          'bad_request',
          `The model '${msg.model}' does not accept images.`,
          `messages[${i}].content`,
        );
    });
  }
  if (msg.tools?.length && model.capabilities.tools === false) {
    throw new GatewayError('bad_request', `The model '${msg.model}' does not support tools.`, 'tools');
  }
}

function hasImage(block: unknown): boolean {
  const b = block as { type?: unknown; content?: unknown };
  if (b?.type === 'image') return true;
  return b?.type === 'tool_result' && Array.isArray(b.content) && b.content.some(hasImage);
}
