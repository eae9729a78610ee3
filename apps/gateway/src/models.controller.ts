import { Controller, Get, Param, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowlistsService } from '@switchyard/allowlists';
import { CatalogService, ModelView, modelView } from '@switchyard/catalog';
import { AppConfig } from '@switchyard/core';
import { GatewayAuthGuard, GatewayRequest, callOf } from '@switchyard/pipeline';

/** GET /v1/models: the OpenAI list shape, only the models this key may use, with capabilities and pricing. */
@ApiTags('v1')
@ApiBearerAuth()
@Controller(['v1', 'api/v1'])
@UseGuards(GatewayAuthGuard)
export class ModelsController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly allowlists: AllowlistsService,
    private readonly config: AppConfig,
  ) {}

  @Get('models')
  @ApiOperation({ summary: 'List the models this API key may use' })
  list(@Req() req: GatewayRequest): { object: 'list'; data: ModelView[] } {
    const key = callOf(req, 'models').key!;
    const data = this.catalog
      .listModels()
      .filter((m) => this.allowlists.allows(key, m))
      .map((m) => modelView(m, this.config.currency));
    return { object: 'list', data };
  }

  // Model ids may contain a slash (`anthropic/claude-sonnet-4-6`): the route takes the rest of the path.
  @Get('models/*id')
  @ApiOperation({ summary: 'One model' })
  one(@Req() req: GatewayRequest, @Param('id') id: string | string[]): ModelView {
    const name = Array.isArray(id) ? id.join('/') : id;
    const call = callOf(req, 'models');
    call.modelRequested = name;
    const m = this.catalog.resolve(name, 'id');
    this.allowlists.assertAllowed(call.key!, m, name);
    return modelView(m, this.config.currency);
  }
}
