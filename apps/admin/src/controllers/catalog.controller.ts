import { Body, Controller, Get, Param, Patch, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminAuthGuard } from '@switchyard/auth';
import {
  CatalogService,
  Model,
  Provider,
  REDACTED,
  modelSchema,
  providerSchema,
  redactedHeaders,
} from '@switchyard/catalog';
import { GatewayError, IdempotencyInterceptor } from '@switchyard/core';
import { Roles, RolesGuard } from '@switchyard/tenancy';

/** Parses with the catalog file's own schema: the file and the API accept exactly the same records. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new GatewayError('bad_request', `${i.path.join('.') || 'body'}: ${i.message}`, i.path.join('.') || null);
  }
  return r.data;
}

/** A PATCH changes only the fields it sent (schema defaults must not overwrite stored values). */
function parsePatch<T extends object>(schema: z.ZodType<T>, body: unknown): Partial<T> {
  const parsed = parse(schema, body);
  const sent = new Set(Object.keys((body ?? {}) as object));
  return Object.fromEntries(Object.entries(parsed).filter(([k]) => sent.has(k))) as Partial<T>;
}

function providerView(p: Provider) {
  // the key and the header values are write-only: their presence is all an API ever tells
  const { headers: _clear, ...quirks } = p.quirks ?? {};
  const headers = redactedHeaders(p.secret_headers);
  return {
    id: p.id,
    object: 'provider',
    kind: p.kind,
    base_url: p.base_url,
    has_api_key: p.api_key_enc !== null,
    timeout_ms: p.timeout_ms,
    quirks: headers ? { ...quirks, headers } : quirks,
    enabled: p.enabled,
    created_at: p.created_at.toISOString(),
    updated_at: p.updated_at.toISOString(),
  };
}

function modelRecordView(m: Model) {
  return {
    id: m.id,
    object: 'model',
    kind: m.kind,
    owned_by: m.owned_by,
    aliases: m.aliases,
    capabilities: m.capabilities,
    price: m.price,
    routes: m.routes,
    fallbacks: m.fallbacks,
    enabled: m.enabled,
    created_at: m.created_at.toISOString(),
    updated_at: m.updated_at.toISOString(),
  };
}

@ApiTags('admin: catalog')
@ApiBearerAuth()
@Controller('admin/api')
@UseGuards(AdminAuthGuard, RolesGuard)
@UseInterceptors(IdempotencyInterceptor)
@Roles('platform_admin')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('providers')
  async providers() {
    return { data: (await this.catalog.listProviderRecords()).map(providerView), next_cursor: null };
  }

  @Get('providers/:id')
  async provider(@Param('id') id: string) {
    return providerView(await this.catalog.getProviderRecord(id));
  }

  @Post('providers')
  @ApiOperation({
    summary: `Add an upstream provider (api_key and quirks.headers values are stored encrypted and never returned: headers show as "${REDACTED}")`,
  })
  async createProvider(@Body() body: unknown) {
    return providerView(await this.catalog.createProvider(parse(providerSchema, body)));
  }

  @Patch('providers/:id')
  @ApiOperation({
    summary: `Change a provider: quirks.headers replaces the stored headers, a value of "${REDACTED}" keeps that one; quirks without headers keeps them`,
  })
  async updateProvider(@Param('id') id: string, @Body() body: unknown) {
    return providerView(
      await this.catalog.updateProvider(id, parsePatch(providerSchema.omit({ id: true }).partial(), body)),
    );
  }

  @Get('models')
  async models() {
    return { data: (await this.catalog.listModelRecords()).map(modelRecordView), next_cursor: null };
  }

  @Get('models/:id')
  async model(@Param('id') id: string) {
    return modelRecordView(await this.catalog.getModelRecord(id));
  }

  @Post('models')
  async createModel(@Body() body: unknown) {
    return modelRecordView(await this.catalog.createModel(parse(modelSchema, body)));
  }

  @Patch('models/:id')
  async updateModel(@Param('id') id: string, @Body() body: unknown) {
    return modelRecordView(
      await this.catalog.updateModel(id, parsePatch(modelSchema.omit({ id: true }).partial(), body)),
    );
  }
}
