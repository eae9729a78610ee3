// POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API in front of every upstream
// kind. The request converts at this edge to the internal chat shape, runs the same pipeline as
// /v1/chat/completions, and converts back (JSON or Anthropic's event stream).
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayError, IdempotencyService, formatAmount, sendError } from '@switchyard/core';
import { CatalogService } from '@switchyard/catalog';
import {
  AdapterRequestError,
  AnthropicMessagesRequest,
  ChatRequest,
  PROVIDER_ADAPTERS,
  readBody,
  sseNamed,
} from '@switchyard/providers';
import { UpstreamRouter, planAttempts } from '@switchyard/routing';
import { AllowlistsService } from '@switchyard/allowlists';
import {
  GatewayPipeline,
  GatewayRequest,
  SseWriter,
  callOf,
  clientSignal,
  endFailed,
  estimateChatInputTokens,
  idempotencyAbandon,
  idempotencyStart,
  markServed,
  pumpStream,
  replyJson,
  servedHeaders,
  validateBody,
} from '@switchyard/pipeline';
import type { MeteredUsage } from '@switchyard/catalog';
import { checkModelServes } from '../chat/chat.service';
import { countChatInput, countText } from '../token-count';
import { CountTokensDto, MessagesDto } from './messages.dto';
import { messagesRequestToChat } from './messages-request';
import { AnthropicEvent, MessageStream, messageOnce, messageStreamOnce } from './messages-upstream';

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
    const chat = toChat(msg);
    const model = this.catalog.resolve(msg.model);
    checkModelServes(model, chat);
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
        inputTokens: estimateChatInputTokens(chat),
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
          messageOnce(this.router, a, msg, chat, signal),
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
      served = await this.router.tryEach(adm.attempts, signal, (a) =>
        messageStreamOnce(this.router, a, msg, chat, signal),
      );
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
    const usage: MeteredUsage = served.reported() ?? {
      inputTokens: countChatInput(chat),
      cachedInputTokens: 0,
      outputTokens: countText(served.producedText()),
    };
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

  /** Native counting where the route's upstream has it (Anthropic, Gemini); a real tokenizer otherwise. */
  async countTokens(req: GatewayRequest, body: unknown): Promise<{ input_tokens: number }> {
    const call = callOf(req, 'messages.count_tokens');
    const msg = validateBody(CountTokensDto, body) as unknown as AnthropicMessagesRequest;
    call.modelRequested = msg.model;
    const chat = toChat({ ...msg, max_tokens: 1 });
    const model = this.catalog.resolve(msg.model);
    this.allowlists.assertAllowed(call.key!, model, msg.model);
    const attempts = planAttempts(model, this.catalog, { allowed: () => false });
    for (const a of attempts) {
      const native = PROVIDER_ADAPTERS[a.target.kind].countTokens;
      if (!native) continue;
      try {
        const res = await this.router.send(
          a,
          native.toUpstream(chat, a.target),
          new AbortController().signal,
          PROVIDER_ADAPTERS[a.target.kind].chat.mapError,
        );
        return native.fromUpstream(await readBody(res.body));
      } catch {
        // fall back to counting locally
      }
    }
    return { input_tokens: countChatInput(chat) };
  }
}

function toChat(msg: AnthropicMessagesRequest): ChatRequest {
  try {
    return messagesRequestToChat(msg);
  } catch (e) {
    if (e instanceof AdapterRequestError) throw new GatewayError('bad_request', e.message, e.param ?? null);
    throw e;
  }
}
