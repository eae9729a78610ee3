import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from './config/app-config';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { ShutdownState } from './http/shutdown-state';
import { LOGGER, Logger } from './logging/logger';
import { MetricsService } from './metrics/metrics.service';
import { IdempotencyService } from './idempotency/idempotency.service';
import { OpsController } from './ops/ops.controller';
import { InvalidationBus } from './redis/invalidation-bus';
import { RedisService } from './redis/redis.service';

export interface CoreOptions {
  config: AppConfig;
  logger: Logger;
}

/** Config, logging, metrics, Postgres (TypeORM) and Redis for every app; imported once by each root module. */
@Global()
@Module({})
export class CoreModule {
  static forRoot({ config, logger }: CoreOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.databaseUrl,
          autoLoadEntities: true,
          synchronize: false,
          migrationsRun: false, // preflight ran them under a lock
          extra: { max: config.databasePoolSize, connectionTimeoutMillis: 5000 },
          logging: false,
        }),
      ],
      controllers: [OpsController],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        MetricsService,
        RedisService,
        InvalidationBus,
        ShutdownState,
        IdempotencyService,
      ],
      exports: [AppConfig, LOGGER, MetricsService, RedisService, InvalidationBus, ShutdownState, IdempotencyService],
    };
  }
}
