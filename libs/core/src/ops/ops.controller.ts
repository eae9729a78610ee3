// Operations endpoints outside /v1: liveness, readiness (Postgres and Redis), Prometheus metrics.
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { ShutdownState } from '../http/shutdown-state';

@ApiExcludeController()
@Controller()
export class OpsController {
  constructor(
    private readonly db: DataSource,
    private readonly redis: RedisService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res() res: Response): Promise<void> {
    const [postgres, redis] = await Promise.all([this.pingPostgres(), this.redis.ping()]);
    const ready = postgres && redis && !this.shutdown.draining;
    const body = {
      status: ready ? 'ok' : 'unavailable',
      checks: {
        postgres: postgres ? 'ok' : 'unreachable',
        redis: redis ? 'ok' : 'unreachable',
        ...(this.shutdown.draining ? { shutdown: 'draining' } : {}),
      },
    };
    if (!ready) res.setHeader('Retry-After', '5');
    res.status(ready ? 200 : 503).json(body);
  }

  @Get('metrics')
  async metricsText(@Res() res: Response): Promise<void> {
    if (!this.config.metricsEnabled) {
      res.status(404).end();
      return;
    }
    res.setHeader('content-type', this.metrics.registry.contentType);
    res.end(await this.metrics.registry.metrics());
  }

  private async pingPostgres(): Promise<boolean> {
    try {
      await Promise.race([
        this.db.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      return true;
    } catch {
      return false;
    }
  }
}
