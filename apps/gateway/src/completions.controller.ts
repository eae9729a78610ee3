import { Body, Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ChatCompletionDto, ChatService, MessagesDto, MessagesService } from '@switchyard/completions';
import { GatewayAuthGuard, GatewayRequest, LimitedAtAdmission } from '@switchyard/pipeline';

@ApiTags('v1')
@ApiBearerAuth()
@Controller(['v1', 'api/v1'])
@UseGuards(GatewayAuthGuard)
export class CompletionsController {
  constructor(
    private readonly chat: ChatService,
    private readonly messages: MessagesService,
  ) {}

  @Post('chat/completions')
  @LimitedAtAdmission()
  @ApiOperation({ summary: 'OpenAI Chat Completions (JSON or SSE stream)' })
  @ApiBody({ type: ChatCompletionDto })
  chatCompletions(@Req() req: GatewayRequest, @Res() res: Response, @Body() body: unknown): Promise<void> {
    return this.chat.handle(req, res, body);
  }

  @Post('messages')
  @LimitedAtAdmission()
  @ApiOperation({ summary: 'Anthropic Messages (JSON or event stream), to any upstream kind' })
  @ApiBody({ type: MessagesDto })
  createMessage(@Req() req: GatewayRequest, @Res() res: Response, @Body() body: unknown): Promise<void> {
    return this.messages.handle(req, res, body);
  }

  @Post('messages/count_tokens')
  @HttpCode(200)
  @ApiOperation({ summary: 'Anthropic token counting' })
  countTokens(
    @Req() req: GatewayRequest,
    @Res({ passthrough: true }) res: Response,
    @Body() body: unknown,
  ): Promise<{ input_tokens: number }> {
    return this.messages.countTokens(req, res, body);
  }
}
