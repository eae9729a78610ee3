// POST /v1/chat/completions: validate, run the pipeline, call the upstream along the route plan, and
// answer as OpenAI does (JSON, or SSE chunks ending with data: [DONE]).
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayError, IdempotencyService, formatAmount } from '@switchyard/core';
import { CatalogService, ResolvedModel } from '@switchyard/catalog';
import type { ChatRequest } from '@switchyard/providers';
import { UpstreamRouter } from '@switchyard/routing';
import {
  Admission,
  GatewayPipeline,
  GatewayRequest,
  callOf,
  clientSignal,
  endFailed,
  estimateChatInputTokens,
  idempotencyAbandon,
  idempotencyStart,
  markServed,
  maxOutputOf,
  replyJson,
  servedHeaders,
  validateBody,
} from '@switchyard/pipeline';
import { ChatCompletionDto } from './chat-completion.dto';
import { completionUsage } from './chat-usage';
import { streamChat } from './chat-stream';

@Injectable()
export class ChatService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly pipeline: GatewayPipeline,
    private readonly router: UpstreamRouter,
    private readonly idempotency: IdempotencyService,
  ) {}

  async handle(req: GatewayRequest, res: Response, body: unknown): Promise<void> {
    const call = callOf(req, 'chat.completions');
    const chat = validateBody(ChatCompletionDto, body) as ChatRequest;
    call.modelRequested = chat.model;
    const model = this.catalog.resolve(chat.model);
    checkModelServes(model, chat);
    call.stream = chat.stream === true;
    const key = call.key!;

    const idem = call.stream ? null : await idempotencyStart(this.idempotency, req, res, body);
    if (idem === 'replayed') return;

    let adm: Admission;
    try {
      adm = await this.pipeline.admit({
        req,
        call,
        key,
        model,
        requestedName: chat.model,
        inputTokens: estimateChatInputTokens(chat),
        clientMaxOutput: chat.max_completion_tokens ?? chat.max_tokens ?? null,
        choices: chat.n ?? 1,
      });
    } catch (e) {
      await idempotencyAbandon(this.idempotency, idem);
      throw e;
    }
    const upstreamReq = withOutputLimit(chat, adm, model);
    const signal = clientSignal(res);
    if (call.stream) {
      await streamChat({
        req,
        res,
        chat: upstreamReq,
        requested: chat.model,
        adm,
        signal,
        router: this.router,
        pipeline: this.pipeline,
      });
      return;
    }
    try {
      const served = await this.router.chat(upstreamReq, adm.attempts, { model: chat.model }, signal);
      const usage = completionUsage(upstreamReq, served.completion);
      markServed(call, served.attempt);
      const cost = await this.pipeline.finish(adm, served.attempt.model, usage);
      const headers = { ...servedHeaders(adm, served.attempt, chat.model), 'x-credits-used': formatAmount(cost) };
      await replyJson(res, headers, served.completion, this.idempotency, idem);
    } catch (e) {
      await idempotencyAbandon(this.idempotency, idem);
      endFailed(this.pipeline, adm, res, e);
    }
  }
}

/** Refuses what the model cannot take, before any money is held. */
export function checkModelServes(model: ResolvedModel, chat: ChatRequest): void {
  if (model.kind !== 'chat') {
    throw new GatewayError(
      'bad_request',
      `The model '${chat.model}' is a ${model.kind} model; /v1/chat/completions needs a chat model.`,
      'model',
    );
  }
  for (const [i, m] of chat.messages.entries()) {
    if (!Array.isArray(m.content)) continue;
    for (const p of m.content as Array<{ type: string }>) {
      if (p.type === 'input_audio' && !model.capabilities.audio_input) {
        throw new GatewayError(
          'audio_not_supported_by_model',
          `The model '${chat.model}' does not accept audio input. Transcribe it first with /v1/audio/transcriptions.`,
          `messages[${i}].content`,
        );
      }
      if (p.type === 'image_url' && model.capabilities.vision === false) {
        throw new GatewayError(
          'bad_request',
          `The model '${chat.model}' does not accept images.`,
          `messages[${i}].content`,
        );
      }
    }
  }
  if (chat.tools?.length && model.capabilities.tools === false) {
    throw new GatewayError('bad_request', `The model '${chat.model}' does not support tools.`, 'tools');
  }
}

/**
 * The client gave no output limit: cap it at what the balance pays for, and give upstreams that need
 * one (Anthropic) the model's own maximum rather than an arbitrary default. The limit is set as
 * max_completion_tokens, OpenAI's current field (its reasoning models refuse max_tokens); each adapter
 * sends it under its upstream's name, and catalog quirks rename it for servers that only know max_tokens.
 */
export function withOutputLimit(chat: ChatRequest, adm: Admission, model: ResolvedModel): ChatRequest {
  if (chat.max_completion_tokens != null || chat.max_tokens != null) return chat;
  if (adm.outputCap !== null) return { ...chat, max_completion_tokens: adm.outputCap };
  if (adm.attempts.some((a) => a.target.kind === 'anthropic'))
    return { ...chat, max_completion_tokens: maxOutputOf(model) };
  return chat;
}
