import { Module } from '@nestjs/common';
import { UsagePartitionsService } from './usage-partitions.service';
import { UsageQueryService } from './usage-query.service';
import { USAGE_WRITER_OPTIONS, UsageWriter } from './usage-writer.service';

/**
 * The usage log: the batched writer the /v1 pipeline records into, the monthly partition keeper and
 * the read side for GET /v1/usage and GET /admin/api/usage. Relies on the global CoreModule
 * (TypeORM DataSource, AppConfig, MetricsService, LOGGER).
 */
@Module({
  providers: [
    // defaults apply; tests override this provider to shrink batch and buffer bounds
    { provide: USAGE_WRITER_OPTIONS, useValue: {} },
    UsageWriter,
    UsagePartitionsService,
    UsageQueryService,
  ],
  exports: [UsageWriter, UsagePartitionsService, UsageQueryService],
})
export class UsageModule {}
