// The public /v1 API (also under /api/v1): the capability modules it serves and their controllers.
import { Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CompletionsModule } from '@switchyard/completions';
import { EmbeddingsModule } from '@switchyard/embeddings';
import { GatewayRequest, PipelineModule, usageRecorder } from '@switchyard/pipeline';
import { UsageWriter } from '@switchyard/usage';
import { AccountController } from './account.controller';
import { CompletionsController } from './completions.controller';
import { EmbeddingsController } from './embeddings.controller';
import { ModelsController } from './models.controller';

@Module({
  imports: [PipelineModule, CompletionsModule, EmbeddingsModule],
  controllers: [CompletionsController, EmbeddingsController, ModelsController, AccountController],
})
export class GatewayModule {}

const V1_PATH = /^\/(api\/)?v1(\/|$)/;

/**
 * The usage-log recorder for every /v1 request. It is mounted before the body parsers (through
 * createHttpApp's beforeBodyParsers, not as module middleware, which Nest mounts after them), so a
 * malformed or oversized body still gets its row.
 */
export function v1UsageRecorder(app: INestApplicationContext): RequestHandler[] {
  const record = usageRecorder(app.get(UsageWriter));
  return [
    (req: Request, res: Response, next: NextFunction) =>
      V1_PATH.test(req.path) ? record(req as GatewayRequest, res, next) : next(),
  ];
}
