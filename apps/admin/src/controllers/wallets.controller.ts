import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard } from '@switchyard/auth';
import { GatewayError, IdempotencyInterceptor, IdempotentRequest, parseAmount } from '@switchyard/core';
import {
  AdminPrincipal,
  Principal,
  Roles,
  RolesGuard,
  TenancyService,
  isPlatformAdmin,
  parseLimit,
} from '@switchyard/tenancy';
import { WalletsService } from '@switchyard/wallets';
import { adminValidationPipe } from '../admin-validation.pipe';
import { RechargeDto } from '../dto/admin.dto';

/** The ledger reference of a money movement: the Idempotency-Key, so a retry can never move money twice. */
function reference(req: IdempotentRequest): string | null {
  return req.idempotency ? `idem:${req.idempotency.scope}:${req.idempotency.key}` : null;
}

function positive(amount: string | number): bigint {
  const a = parseAmount(amount);
  if (a <= 0n) throw new GatewayError('bad_request', 'amount must be greater than zero', 'amount');
  return a;
}

@ApiTags('admin: wallets')
@ApiBearerAuth()
@Controller('admin/api')
@UseGuards(AdminAuthGuard, RolesGuard)
@UseInterceptors(IdempotencyInterceptor)
@UsePipes(adminValidationPipe)
export class WalletsController {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly wallets: WalletsService,
  ) {}

  // ---- workspace wallets ----

  @Get('workspaces/:id/wallet')
  async workspaceWallet(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const ws = await this.tenancy.getWorkspace(p, id);
    return this.wallets.view({ type: 'workspace', id: ws.id });
  }

  @Post('workspaces/:id/wallet/recharges')
  @ApiOperation({
    summary:
      'Recharge a workspace: a platform admin credits it; an agent transfers from its own wallet (402 when short). Honours Idempotency-Key.',
  })
  async rechargeWorkspace(
    @Principal() p: AdminPrincipal,
    @Param('id') id: string,
    @Body() body: RechargeDto,
    @Req() req: IdempotentRequest,
  ) {
    const ws = await this.tenancy.getWorkspace(p, id);
    const amount = positive(body.amount);
    const common = { note: body.note ?? null, actorId: p.userId, reference: reference(req) };
    const transactionId = isPlatformAdmin(p)
      ? await this.wallets.credit({ type: 'workspace', id: ws.id }, amount, common)
      : await this.wallets.transfer(p.agentId!, ws.id, amount, common);
    return { transaction_id: transactionId, wallet: await this.wallets.view({ type: 'workspace', id: ws.id }) };
  }

  @Post('workspaces/:id/wallet/suspend')
  @HttpCode(200)
  async suspendWorkspace(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const ws = await this.tenancy.getWorkspace(p, id);
    return this.wallets.setStatus({ type: 'workspace', id: ws.id }, 'suspended');
  }

  @Post('workspaces/:id/wallet/resume')
  @HttpCode(200)
  async resumeWorkspace(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const ws = await this.tenancy.getWorkspace(p, id);
    return this.wallets.setStatus({ type: 'workspace', id: ws.id }, 'active');
  }

  @Get('workspaces/:id/wallet/transactions')
  async workspaceTransactions(
    @Principal() p: AdminPrincipal,
    @Param('id') id: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ) {
    const ws = await this.tenancy.getWorkspace(p, id);
    return this.wallets.transactions({ type: 'workspace', id: ws.id }, cursor, parseLimit(limit));
  }

  // ---- agent wallets ----

  @Get('agents/:id/wallet')
  async agentWallet(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const a = await this.tenancy.getAgent(p, id);
    return this.wallets.view({ type: 'agent', id: a.id });
  }

  @Post('agents/:id/wallet/recharges')
  @Roles('platform_admin')
  @ApiOperation({ summary: "Credit an agent's wallet (platform admin). Honours Idempotency-Key." })
  async rechargeAgent(
    @Principal() p: AdminPrincipal,
    @Param('id') id: string,
    @Body() body: RechargeDto,
    @Req() req: IdempotentRequest,
  ) {
    const a = await this.tenancy.getAgent(p, id);
    const transactionId = await this.wallets.credit({ type: 'agent', id: a.id }, positive(body.amount), {
      note: body.note ?? null,
      actorId: p.userId,
      reference: reference(req),
    });
    return { transaction_id: transactionId, wallet: await this.wallets.view({ type: 'agent', id: a.id }) };
  }

  @Post('agents/:id/wallet/suspend')
  @HttpCode(200)
  @Roles('platform_admin')
  async suspendAgent(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const a = await this.tenancy.getAgent(p, id);
    return this.wallets.setStatus({ type: 'agent', id: a.id }, 'suspended');
  }

  @Post('agents/:id/wallet/resume')
  @HttpCode(200)
  @Roles('platform_admin')
  async resumeAgent(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const a = await this.tenancy.getAgent(p, id);
    return this.wallets.setStatus({ type: 'agent', id: a.id }, 'active');
  }

  @Get('agents/:id/wallet/transactions')
  async agentTransactions(
    @Principal() p: AdminPrincipal,
    @Param('id') id: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ) {
    const a = await this.tenancy.getAgent(p, id);
    return this.wallets.transactions({ type: 'agent', id: a.id }, cursor, parseLimit(limit));
  }
}
