// The public /v1 API (also under /api/v1): the capability modules it serves and their controllers.
import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { CompletionsModule } from '@switchyard/completions';
import { EmbeddingsModule } from '@switchyard/embeddings';
import { PipelineModule, usageRecorder } from '@switchyard/pipeline';
import { UsageWriter } from '@switchyard/usage';
import { AccountController } from './account.controller';
import { CompletionsController } from './completions.controller';
import { EmbeddingsController } from './embeddings.controller';
import { ModelsController } from './models.controller';

@Module({
  imports: [PipelineModule, CompletionsModule, EmbeddingsModule],
  controllers: [CompletionsController, EmbeddingsController, ModelsController, AccountController],
})
export class GatewayModule implements NestModule {
  constructor(private readonly usage: UsageWriter) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(usageRecorder(this.usage)).forRoutes('v1/*path', 'api/v1/*path');
  }
}
