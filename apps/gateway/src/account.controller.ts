import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GatewayError } from '@switchyard/core';
import { GatewayAuthGuard, GatewayRequest, callOf } from '@switchyard/pipeline';
import { parseLimit } from '@switchyard/tenancy';
import { UsageQueryService } from '@switchyard/usage';
import { WalletView, WalletsService } from '@switchyard/wallets';

/** What a key can learn about its own workspace: spend (/v1/usage) and balance (/v1/extras/credits). */
@ApiTags('v1')
@ApiBearerAuth()
@Controller(['v1', 'api/v1'])
@UseGuards(GatewayAuthGuard)
export class AccountController {
  constructor(
    private readonly usage: UsageQueryService,
    private readonly wallets: WalletsService,
  ) {}

  @Get('usage')
  @ApiOperation({ summary: 'Usage and spend per model and day for this workspace (cursor pagination)' })
  async usageSummary(
    @Req() req: GatewayRequest,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('model') model?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<unknown> {
    const key = callOf(req, 'usage').key!;
    return this.usage.workspaceSummary(key.workspaceId, {
      from: parseDate(from, 'from'),
      to: parseDate(to, 'to'),
      model,
      cursor,
      limit: parseLimit(limit, 30, 100),
    });
  }

  @Get('extras/credits')
  @ApiOperation({ summary: 'Wallet balance of the calling key' })
  credits(@Req() req: GatewayRequest): Promise<WalletView & { object: 'wallet' }> {
    const key = callOf(req, 'credits').key!;
    return this.wallets
      .view({ type: 'workspace', id: key.workspaceId })
      .then((w) => ({ object: 'wallet' as const, ...w }));
  }
}

export function parseDate(v: string | undefined, param: string): Date | undefined {
  if (!v) return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(d.getTime()))
    throw new GatewayError('bad_request', `${param} must be a date (YYYY-MM-DD) or an ISO 8601 time`, param);
  return d;
}
