import { Body, Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { EmbeddingsDto, EmbeddingsService } from '@switchyard/embeddings';
import { GatewayAuthGuard, GatewayRequest, LimitedAtAdmission } from '@switchyard/pipeline';

@ApiTags('v1')
@ApiBearerAuth()
@Controller(['v1', 'api/v1'])
@UseGuards(GatewayAuthGuard)
export class EmbeddingsController {
  constructor(private readonly embeddings: EmbeddingsService) {}

  @Post('embeddings')
  @LimitedAtAdmission()
  @ApiOperation({ summary: 'OpenAI Embeddings' })
  @ApiBody({ type: EmbeddingsDto })
  create(@Req() req: GatewayRequest, @Res() res: Response, @Body() body: unknown): Promise<void> {
    return this.embeddings.handle(req, res, body);
  }
}
