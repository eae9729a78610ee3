import { Body, Controller, Delete, Get, Param, Patch, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowlistsService } from '@switchyard/allowlists';
import { AdminAuthGuard, ApiKeysService, KeySettings } from '@switchyard/auth';
import { IdempotencyInterceptor, parseAmount } from '@switchyard/core';
import { AdminPrincipal, Principal, RolesGuard, TenancyService } from '@switchyard/tenancy';
import { adminValidationPipe } from '../admin-validation.pipe';
import { UpdateKeyDto } from '../dto/admin.dto';
import { keyView } from '../views';

@ApiTags('admin: keys')
@ApiBearerAuth()
@Controller('admin/api/keys')
@UseGuards(AdminAuthGuard, RolesGuard)
@UseInterceptors(IdempotencyInterceptor)
@UsePipes(adminValidationPipe)
export class KeysController {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly keys: ApiKeysService,
    private readonly allowlists: AllowlistsService,
  ) {}

  /** The key, if the caller may see its workspace; 404 otherwise. */
  private async owned(p: AdminPrincipal, id: string) {
    const key = await this.keys.get(id);
    const ws = await this.tenancy.getWorkspace(p, key.workspace_id);
    return { key, ws };
  }

  @Get(':id')
  async get(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    return keyView((await this.owned(p, id)).key);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a key: name, limits (null removes), allowlist, expiry' })
  async update(@Principal() p: AdminPrincipal, @Param('id') id: string, @Body() body: UpdateKeyDto) {
    const { key, ws } = await this.owned(p, id);
    const agent = await this.tenancy.getAgent({ ...p, role: 'platform_admin' }, ws.agent_id);
    const changes = keySettings(body, (list) => this.allowlists.validateGrant(list, agent.allowlist, 'allowlist'));
    return keyView(await this.keys.update(key, changes));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a key (takes effect within seconds everywhere)' })
  async revoke(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    return keyView(await this.keys.revoke((await this.owned(p, id)).key));
  }
}

/** Body fields to key settings: only what was sent changes; null removes a cap. */
export function keySettings(
  body: {
    name?: string;
    rpm?: number | null;
    tpm?: number | null;
    daily_requests?: number | null;
    daily_spend?: string | number | null;
    allowlist?: string[] | null;
    expires_at?: string | null;
  },
  grant: (list: string[] | null) => string[] | null,
): KeySettings {
  const s: KeySettings = {};
  if (body.name !== undefined) s.name = body.name;
  if (body.rpm !== undefined) s.rpm = body.rpm;
  if (body.tpm !== undefined) s.tpm = body.tpm;
  if (body.daily_requests !== undefined) s.daily_requests = body.daily_requests;
  if (body.daily_spend !== undefined) s.daily_spend = body.daily_spend === null ? null : parseAmount(body.daily_spend);
  if (body.allowlist !== undefined) s.allowlist = grant(body.allowlist);
  if (body.expires_at !== undefined) s.expires_at = body.expires_at === null ? null : new Date(body.expires_at);
  return s;
}
