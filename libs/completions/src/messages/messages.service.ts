// POST /v1/messages and /v1/messages/count_tokens: Anthropic's Messages API in front of every upstream
// kind. The request converts at this edge to the internal chat shape, runs the same pipeline as
// /v1/chat/completions, and converts back (JSON or Anthropic's event stream).
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayError, formatAmount, sendError } from '@switchyard/core';
import { CatalogService } from '@switchyard/catalog';
import {
  AdapterRequestError,
  AnthropicMessagesRequest,
  ChatRequest,
  PROVIDER_ADAPTERS,
  readBody,
  sseNamed,
} from '@switchyard/providers';
import { ClientGoneError, UpstreamRouter, liveContext, planAttempts, type ChatStream } from '@switchyard/routing';
import { AllowlistsService } from '@switchyard/allowlists';
import {
  GatewayPipeline,
  GatewayRequest,
  SseWriter,
  callOf,
  clientSignal,
  estimateChatInputTokens,
  servedHeaders,
  setHeaders,
  validateBody,
} from '@switchyard/pipeline';
import type { MeteredUsage } from '@switchyard/catalog';
import { checkModelServes } from '../chat/chat.service';
import { completionUsage, meteredFrom, toOpenAIUsage } from '../chat/chat-usage';
import { countChatInput, countText } from '../token-count';
import { CountTokensDto, MessagesDto } from './messages.dto';
import { chatCompletionToMessage } from './messages-response';
import { messagesRequestToChat } from './messages-request';
import { chatChunksToMessageEvents } from './messages-stream';

@Injectable()
export class MessagesService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly pipeline: GatewayPipeline,
    private readonly router: UpstreamRouter,
    private readonly allowlists: AllowlistsService,
  ) {}

  async handle(req: GatewayRequest, res: Response, body: unknown): Promise<void> {
    const call = callOf(req, 'messages');
    const msg = validateBody(MessagesDto, body) as AnthropicMessagesRequest;
    call.modelRequested = msg.model;
    const chat = toChat(msg);
    const model = this.catalog.resolve(msg.model);
    checkModelServes(model, chat);
    call.stream = msg.stream === true;
    const adm = await this.pipeline.admit({
      req,
      call,
      key: call.key!,
      model,
      requestedName: msg.model,
      inputTokens: estimateChatInputTokens(chat),
      clientMaxOutput: msg.max_tokens,
    });
    const signal = clientSignal(res);
    if (!call.stream) {
      try {
        const served = await this.router.chat(chat, adm.attempts, { model: msg.model }, signal);
        const usage = completionUsage(chat, served.completion);
        call.modelUsed = served.attempt.model.id;
        call.providerId = served.attempt.target.providerId;
        call.fallbackDepth = served.attempt.depth;
        const cost = await this.pipeline.finish(adm, served.attempt.model, usage);
        setHeaders(res, { ...servedHeaders(adm, served.attempt, msg.model), 'x-credits-used': formatAmount(cost) });
        res.status(200).json(chatCompletionToMessage(served.completion, msg.model, liveContext));
      } catch (e) {
        this.pipeline.release(adm);
        if (e instanceof ClientGoneError) return;
        setHeaders(res, adm.rateHeaders);
        throw e;
      }
      return;
    }

    let served: ChatStream;
    try {
      served = await this.router.chatStream(chat, adm.attempts, { model: msg.model }, signal);
    } catch (e) {
      this.pipeline.release(adm);
      if (e instanceof ClientGoneError) return;
      setHeaders(res, adm.rateHeaders);
      throw e;
    }
    call.modelUsed = served.attempt.model.id;
    call.providerId = served.attempt.target.providerId;
    call.fallbackDepth = served.attempt.depth;
    call.ttftMs = Math.round(Number(process.hrtime.bigint() - req.startedAt) / 1e6);
    const out = new SseWriter(res);
    out.start(servedHeaders(adm, served.attempt, msg.model));
    const mapper = chatChunksToMessageEvents(msg.model, liveContext);
    const produced: string[] = [];
    let reported: MeteredUsage | undefined;
    const emit = async (chunks: typeof served.first) => {
      for (const c of chunks) {
        if (c.usage) reported = meteredFrom(c.usage) ?? reported;
        for (const ch of c.choices) {
          if (typeof ch.delta.content === 'string') produced.push(ch.delta.content);
          for (const t of ch.delta.tool_calls ?? []) produced.push(t.function?.arguments ?? '');
        }
        for (const ev of mapper.push(c)) await out.write(sseNamed(ev.type, ev));
      }
    };
    let failure: GatewayError | undefined;
    let gone = false;
    try {
      await emit(served.first);
      for await (const chunks of served.rest) {
        await emit(chunks);
        if (out.closed) throw new ClientGoneError();
      }
    } catch (e) {
      if (e instanceof ClientGoneError || out.closed) gone = true;
      else failure = e instanceof GatewayError ? e : new GatewayError('upstream_error', 'the upstream stream failed');
      void served.rest.return(undefined);
    }
    const usage: MeteredUsage = reported ?? { inputTokens: countChatInput(chat), cachedInputTokens: 0, outputTokens: countText(produced.join('')) };
    await this.pipeline.finish(adm, served.attempt.model, usage, { capAtHold: gone });
    if (gone) return;
    if (failure) {
      sendError(req, res, failure);
      return;
    }
    if (!reported) {
      // the upstream reported no usage: give the mapper ours so message_delta carries it
      for (const ev of mapper.push({ id: '', object: 'chat.completion.chunk', created: 0, model: msg.model, choices: [], usage: toOpenAIUsage(usage) })) {
        await out.write(sseNamed(ev.type, ev));
      }
    }
    for (const ev of mapper.end()) await out.write(sseNamed(ev.type, ev));
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
        const res = await this.router.send(a, native.toUpstream(chat, a.target), new AbortController().signal, PROVIDER_ADAPTERS[a.target.kind].chat.mapError);
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
