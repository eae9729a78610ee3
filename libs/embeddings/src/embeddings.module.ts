import { Module } from '@nestjs/common';
import { PipelineModule } from '@switchyard/pipeline';
import { EmbeddingsService } from './embeddings.service';

@Module({ imports: [PipelineModule], providers: [EmbeddingsService], exports: [EmbeddingsService] })
export class EmbeddingsModule {}
