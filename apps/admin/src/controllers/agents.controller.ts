import { Body, Controller, Get, Param, Patch, Post, Query, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowlistsService } from '@switchyard/allowlists';
import { AdminAuthGuard } from '@switchyard/auth';
import { IdempotencyInterceptor } from '@switchyard/core';
import { AdminPrincipal, Principal, Roles, RolesGuard, TenancyService, parseLimit } from '@switchyard/tenancy';
import { adminValidationPipe } from '../admin-validation.pipe';
import { CreateAgentDto, UpdateAgentDto } from '../dto/admin.dto';
import { agentView } from '../views';

@ApiTags('admin: agents')
@ApiBearerAuth()
@Controller('admin/api/agents')
@UseGuards(AdminAuthGuard, RolesGuard)
@UseInterceptors(IdempotencyInterceptor)
@UsePipes(adminValidationPipe)
export class AgentsController {
  constructor(
    private readonly tenancy: TenancyService,
    private readonly allowlists: AllowlistsService,
  ) {}

  @Get()
  @Roles('platform_admin')
  async list(@Query('cursor') cursor?: string, @Query('limit') limit?: string) {
    const page = await this.tenancy.listAgents(cursor, parseLimit(limit));
    return { data: page.data.map((a) => agentView(a)), next_cursor: page.next_cursor };
  }

  @Post()
  @Roles('platform_admin')
  @ApiOperation({ summary: 'Create an agent (reseller) with its sign-in' })
  async create(@Body() body: CreateAgentDto) {
    const allowlist = this.allowlists.validateGrant(body.allowlist, null, 'allowlist');
    const { agent, user } = await this.tenancy.createAgent(body);
    const saved = allowlist ? await this.tenancy.updateAgent(agent.id, { allowlist }) : agent;
    return agentView(saved, user.email);
  }

  @Get(':id')
  async get(@Principal() p: AdminPrincipal, @Param('id') id: string) {
    const a = await this.tenancy.getAgent(p, id);
    return agentView(a, await this.tenancy.agentEmail(a.id));
  }

  @Patch(':id')
  @Roles('platform_admin')
  @ApiOperation({ summary: "Rename an agent or set its model allowlist (binds all its workspaces' keys)" })
  async update(@Param('id') id: string, @Body() body: UpdateAgentDto) {
    const changes: { name?: string; allowlist?: string[] | null } = {};
    if (body.name !== undefined) changes.name = body.name;
    if (body.allowlist !== undefined)
      changes.allowlist = this.allowlists.validateGrant(body.allowlist, null, 'allowlist');
    return agentView(await this.tenancy.updateAgent(id, changes));
  }
}
