import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Req,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Throttle } from '@nestjs/throttler';
import type { Request } from 'express';
import { AdminAuthGuard, AdminLoginGuard, AdminTokensService } from '@switchyard/auth';
import { IdempotencyInterceptor, ShownOnce } from '@switchyard/core';
import { ContractThrottlerGuard } from '@switchyard/limits';
import { AdminPrincipal, AdminUser, Principal } from '@switchyard/tenancy';
import { adminValidationPipe } from '../admin-validation.pipe';
import { CreateTokenDto, LoginDto } from '../dto/admin.dto';

@ApiTags('admin: auth')
@Controller('admin/api')
@UsePipes(adminValidationPipe)
export class AuthController {
  constructor(private readonly tokens: AdminTokensService) {}

  @Post('auth/login')
  @HttpCode(200)
  // brute-force brake: 10 attempts a minute per client address, counted in Redis across processes
  @UseGuards(ContractThrottlerGuard, AdminLoginGuard)
  @Throttle({ default: { limit: 10, ttl: 60_000 } })
  @ApiOperation({ summary: 'Sign in with email and password; returns a bearer token' })
  @ApiBody({ type: LoginDto })
  async login(@Req() req: Request & { user: AdminUser }) {
    const { token, record } = await this.tokens.issue(req.user, 'session');
    const u = req.user;
    return {
      token,
      token_type: 'Bearer',
      expires_at: record.expires_at?.toISOString() ?? null,
      user: { id: u.id, email: u.email, role: u.role, agent_id: u.agent_id },
    };
  }

  @Post('auth/logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(AdminAuthGuard)
  async logout(@Principal() p: AdminPrincipal): Promise<void> {
    await this.tokens.revoke(p.userId, p.tokenId);
  }

  @Get('auth/me')
  @ApiBearerAuth()
  @UseGuards(AdminAuthGuard)
  me(@Principal() p: AdminPrincipal) {
    return { id: p.userId, email: p.email, role: p.role, agent_id: p.agentId, token_kind: p.tokenKind };
  }

  @Get('tokens')
  @ApiBearerAuth()
  @UseGuards(AdminAuthGuard)
  @ApiOperation({ summary: 'Your long-lived API tokens (for scripts)' })
  async list(@Principal() p: AdminPrincipal) {
    const data = (await this.tokens.listApiTokens(p.userId)).map((t) => ({
      id: t.id,
      object: 'admin_token',
      name: t.name,
      prefix: t.prefix,
      created_at: t.created_at.toISOString(),
      last_used_at: t.last_used_at?.toISOString() ?? null,
    }));
    return { data, next_cursor: null };
  }

  @Post('tokens')
  @ApiBearerAuth()
  @UseGuards(AdminAuthGuard)
  @UseInterceptors(IdempotencyInterceptor)
  @ShownOnce('token')
  @ApiOperation({
    summary:
      'Create a long-lived API token; the token is shown once (an Idempotency-Key replay answers the same record with token: null)',
  })
  async create(@Principal() p: AdminPrincipal, @Body() body: CreateTokenDto) {
    const user = { id: p.userId } as AdminUser;
    const { token, record } = await this.tokens.issue(user, 'api', body.name);
    return {
      id: record.id,
      object: 'admin_token',
      name: record.name,
      prefix: record.prefix,
      token,
      created_at: record.created_at.toISOString(),
    };
  }

  @Delete('tokens/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @UseGuards(AdminAuthGuard)
  @UseInterceptors(IdempotencyInterceptor)
  async revoke(@Principal() p: AdminPrincipal, @Param('id') id: string): Promise<void> {
    await this.tokens.revoke(p.userId, id);
  }
}
