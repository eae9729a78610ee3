// Background sweeps on BullMQ: job schedulers make each sweep run once per interval across all worker
// processes (not once per process), and a dead worker's job is picked up by another.
import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { IdempotencyService, LOGGER, Logger } from '@switchyard/core';
import { WalletsService } from '@switchyard/wallets';

export const MAINTENANCE_QUEUE = 'maintenance';

export const SCHEDULES = {
  'sweep-holds': 30_000, // holds orphaned by a crashed process go back to their wallets
  'purge-idempotency': 3_600_000, // stored responses past their 24 h
} as const;

type MaintenanceJob = keyof typeof SCHEDULES;

@Processor(MAINTENANCE_QUEUE)
export class MaintenanceProcessor extends WorkerHost {
  constructor(
    private readonly wallets: WalletsService,
    private readonly idempotency: IdempotencyService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  async process(job: Job): Promise<{ released?: number; purged?: number }> {
    const name = job.name as MaintenanceJob;
    switch (name) {
      case 'sweep-holds': {
        const released = await this.wallets.sweepExpiredHolds();
        if (released) this.logger.warn({ released }, 'released expired holds');
        return { released };
      }
      case 'purge-idempotency':
        return { purged: await this.idempotency.purgeExpired() };
      default:
        this.logger.warn({ job: job.name }, 'unknown maintenance job');
        return {};
    }
  }
}

@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const [name, every] of Object.entries(SCHEDULES)) {
      await this.queue.upsertJobScheduler(
        name,
        { every },
        { name, opts: { removeOnComplete: 100, removeOnFail: 100 } },
      );
    }
  }
}
