// POST /v1/embeddings: string or array input, float or base64, `dimensions` where the model supports
// it; `model` in the answer echoes the alias the client sent; image/video blocks only for multimodal models.
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { GatewayError, IdempotencyService, formatAmount } from '@switchyard/core';
import { CatalogService } from '@switchyard/catalog';
import type { EmbeddingRequest } from '@switchyard/providers';
import { UpstreamRouter } from '@switchyard/routing';
import {
  GatewayPipeline,
  GatewayRequest,
  callOf,
  clientSignal,
  endFailed,
  estimateEmbeddingInputTokens,
  idempotencyAbandon,
  idempotencyStart,
  markServed,
  replyJson,
  servedHeaders,
  validateBody,
} from '@switchyard/pipeline';
import { EmbeddingsDto } from './embeddings.dto';
import { embeddingUsage } from './embedding-usage';

@Injectable()
export class EmbeddingsService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly pipeline: GatewayPipeline,
    private readonly router: UpstreamRouter,
    private readonly idempotency: IdempotencyService,
  ) {}

  async handle(req: GatewayRequest, res: Response, body: unknown): Promise<void> {
    const call = callOf(req, 'embeddings');
    const emb = validateBody(EmbeddingsDto, body) as EmbeddingRequest;
    call.modelRequested = emb.model;
    const model = this.catalog.resolve(emb.model);
    if (model.kind !== 'embedding') {
      throw new GatewayError(
        'bad_request',
        `The model '${emb.model}' is a ${model.kind} model; /v1/embeddings needs an embedding model.`,
        'model',
      );
    }
    const blocks = Array.isArray(emb.input) && emb.input.some((x) => typeof x === 'object' && !Array.isArray(x));
    if (blocks && !model.capabilities.multimodal) {
      throw new GatewayError(
        'bad_request',
        `The model '${emb.model}' takes text only; image and video blocks need a multimodal embedding model.`,
        'input',
      );
    }
    if (
      emb.dimensions !== undefined &&
      model.capabilities.dimensions !== undefined &&
      emb.dimensions > model.capabilities.dimensions
    ) {
      throw new GatewayError(
        'bad_request',
        `dimensions must be at most ${model.capabilities.dimensions} for '${emb.model}'.`,
        'dimensions',
      );
    }
    const idem = await idempotencyStart(this.idempotency, req, res, body);
    if (idem === 'replayed') return;
    const adm = await this.pipeline
      .admit({
        req,
        call,
        key: call.key!,
        model,
        requestedName: emb.model,
        inputTokens: estimateEmbeddingInputTokens(emb),
        clientMaxOutput: null,
        noOutput: true,
      })
      .catch(async (e: unknown) => {
        await idempotencyAbandon(this.idempotency, idem);
        throw e;
      });
    try {
      const served = await this.router.embeddings(emb, adm.attempts, { model: emb.model }, clientSignal(res));
      const r = served.response;
      const usage = embeddingUsage(emb, r.usage);
      r.usage = usage;
      markServed(call, served.attempt);
      const cost = await this.pipeline.finish(adm, served.attempt.model, {
        inputTokens: usage.prompt_tokens,
        outputTokens: 0,
      });
      await replyJson(
        res,
        { ...servedHeaders(adm, served.attempt, emb.model), 'x-credits-used': formatAmount(cost) },
        r,
        this.idempotency,
        idem,
      );
    } catch (e) {
      await idempotencyAbandon(this.idempotency, idem);
      endFailed(this.pipeline, adm, res, e);
    }
  }
}
