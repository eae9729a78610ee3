import { Controller, Get, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard } from '@switchyard/auth';
import { GatewayError } from '@switchyard/core';
import { AdminPrincipal, Principal, RolesGuard, parseLimit } from '@switchyard/tenancy';
import { UsageQueryService } from '@switchyard/usage';

function date(v: string | undefined, param: string): Date | undefined {
  if (!v) return undefined;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(d.getTime()))
    throw new GatewayError('bad_request', `${param} must be a date or an ISO 8601 time`, param);
  return d;
}

/** true once the response can take more, false if it closed first */
function drained(res: Response): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

@ApiTags('admin: usage')
@ApiBearerAuth()
@Controller('admin/api/usage')
@UseGuards(AdminAuthGuard, RolesGuard)
export class UsageController {
  constructor(private readonly usage: UsageQueryService) {}

  @Get()
  @ApiOperation({ summary: 'Usage log rows with filters; format=csv streams a CSV export' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'csv'] })
  async list(
    @Principal() p: AdminPrincipal,
    @Res() res: Response,
    @Query() q: Record<string, string | undefined>,
  ): Promise<void> {
    const status: 'ok' | 'error' | number | undefined =
      q.status === undefined ? undefined : q.status === 'ok' || q.status === 'error' ? q.status : Number(q.status);
    if (typeof status === 'number' && !Number.isInteger(status))
      throw new GatewayError('bad_request', 'status must be ok, error or an HTTP status', 'status');
    const filter = {
      agent_id: q.agent_id,
      workspace_id: q.workspace_id,
      api_key_id: q.api_key_id,
      model: q.model,
      endpoint: q.endpoint,
      status,
      from: date(q.from, 'from'),
      to: date(q.to, 'to'),
      cursor: q.cursor,
      limit: parseLimit(q.limit, 50, 1000),
    };
    if (q.format === 'csv') {
      res.status(200).setHeader('content-type', 'text/csv; charset=utf-8');
      res.setHeader('content-disposition', 'attachment; filename="usage.csv"');
      // a client that leaves mid-export ends it: no 'drain' ever comes once the socket is closed, and
      // leaving the loop closes the row pages' generator
      for await (const line of this.usage.adminCsv(p, filter)) {
        if (res.destroyed || (!res.write(line) && !(await drained(res)))) break;
      }
      if (!res.destroyed) res.end();
      return;
    }
    res.status(200).json(await this.usage.adminList(p, filter));
  }
}
