import {
  Body,
  Controller,
  Get,
  Param,
  Patch,
  Post,
  Put,
  Query,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowlistsService } from '@switchyard/allowlists';
import { AdminAuthGuard, ApiKeysService } from '@switchyard/auth';
import { IdempotencyInterceptor, ShownOnce, parseAmount } from '@switchyard/core';
import {
  AdminPrincipal,
  Principal,
  RolesGuard,
  TenancyService,
  WorkspaceChanges,
  parseLimit,
} from '@switchyard/tenancy';
import { adminValidationPipe } from '../admin-validation.pipe';
import { AllowlistDto, CreateKeyDto, CreateWorkspaceDto, UpdateWorkspaceDto } from '../dto/admin.dto';
import { keyView, workspaceView } from '../views';
import { keySettings } from './keys.controller';

@ApiTags('admin: workspaces')
@ApiBearerAuth()
@Controller('admin/api/workspaces')
@UseGuards(AdminAuthGuard, RolesGuard)
@UseInterceptors(IdempotencyInterceptor)
@UsePipes(adminValidationPipe)
export class WorkspacesController {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly keys: ApiKeysService,
    private readonly allowlists: AllowlistsService,
  ) {}

  @Get()
  @ApiOperation({ summary: "Workspaces you manage (an agent: its own; a platform admin: all, or one agent's)" })
  async list(
    @Principal() p: AdminPrincipal,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
    @Query('search') search?: string,
    @Query('agent_id') agentId?: string,
  ) {
    const page = await this.tenancy.listWorkspaces(p, { cursor, limit: parseLimit(limit), search, agent_id: agentId });
    return { data: page.data.map(workspaceView), next_cursor: page.next_cursor };
  }

  @Post()
  async create(@Principal() p: AdminPrincipal, @Body() body: CreateWorkspaceDto) {
    return workspaceView(await this.tenancy.createWorkspace(p, body));
  }

  @Get(':id')
  async get(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    return workspaceView(await this.tenancy.getWorkspace(p, id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename, or set limits (null removes a cap)' })
  async update(@Principal() p: AdminPrincipal, @Param('id') id: string, @Body() body: UpdateWorkspaceDto) {
    const c: WorkspaceChanges = {};
    if (body.name !== undefined) c.name = body.name;
    if (body.rpm !== undefined) c.rpm = body.rpm;
    if (body.tpm !== undefined) c.tpm = body.tpm;
    if (body.daily_requests !== undefined) c.daily_requests = body.daily_requests;
    if (body.daily_spend !== undefined)
      c.daily_spend = body.daily_spend === null ? null : parseAmount(body.daily_spend);
    if (body.storage_limit_bytes !== undefined)
      c.storage_limit_bytes = body.storage_limit_bytes === null ? null : BigInt(body.storage_limit_bytes);
    return workspaceView(await this.tenancy.updateWorkspace(p, id, c));
  }

  @Put(':id/allowlist')
  @ApiOperation({
    summary: "The workspace's model allowlist (empty or absent: no restriction); within the agent's own",
  })
  async setAllowlist(@Principal() p: AdminPrincipal, @Param('id') id: string, @Body() body: AllowlistDto) {
    const ws = await this.tenancy.getWorkspace(p, id);
    const agent = await this.tenancy.getAgent({ ...p, role: 'platform_admin' }, ws.agent_id);
    const allowlist = this.allowlists.validateGrant(body.models, agent.allowlist);
    const saved = await this.tenancy.updateWorkspace(p, id, { allowlist });
    return { workspace_id: saved.id, models: saved.allowlist ?? [] };
  }

  @Get(':id/keys')
  async listKeys(
    @Principal() p: AdminPrincipal,
    @Param('id') id: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ) {
    const ws = await this.tenancy.getWorkspace(p, id);
    const page = await this.keys.list(ws.id, cursor, parseLimit(limit));
    return { data: page.data.map(keyView), next_cursor: page.next_cursor };
  }

  @Post(':id/keys')
  @ApiOperation({
    summary:
      'Create an API key; the full key is in this response only (an Idempotency-Key replay answers the same record with key: null)',
  })
  @ShownOnce('key')
  async createKey(@Principal() p: AdminPrincipal, @Param('id') id: string, @Body() body: CreateKeyDto) {
    const ws = await this.tenancy.getWorkspace(p, id);
    const agent = await this.tenancy.getAgent({ ...p, role: 'platform_admin' }, ws.agent_id);
    const settings = keySettings(body, (list) => this.allowlists.validateGrant(list, agent.allowlist, 'allowlist'));
    const { key, record } = await this.keys.issue(ws.id, { ...settings, name: body.name });
    return { ...keyView(record), key };
  }
}
