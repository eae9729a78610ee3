// Keeps the usage log's monthly partitions ahead of time (this month and the next two, at start and
// every 12 h), so rows never land in the DEFAULT partition in normal operation. When the default
// already holds rows of a month (the app was down across a month boundary, or a clock jumped),
// Postgres refuses to create that month's partition; those rows are then moved in one transaction.
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { LOGGER, Logger } from '@switchyard/core';

const CHECK_EVERY_MS = 12 * 3_600_000;
const MONTHS_AHEAD = 2;

export type PartitionOutcome = 'exists' | 'created' | 'moved';

@Injectable()
export class UsagePartitionsService implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly db: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.ensureUpcomingLogged();
    this.timer = setInterval(() => void this.ensureUpcomingLogged(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The partitions of the month of `now` and the next two months. */
  async ensureUpcoming(now = new Date()): Promise<void> {
    for (let i = 0; i <= MONTHS_AHEAD; i++) {
      await this.ensureMonth(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + i, 1)));
    }
  }

  /** The partition of the UTC month containing `day`, moving that month's rows out of the default first when needed. */
  async ensureMonth(day: Date): Promise<PartitionOutcome> {
    const month = monthOf(day);
    if (await this.exists(month.name)) return 'exists';
    try {
      await this.db.transaction((m) => this.createPartition(m, month));
      this.logger.info({ partition: month.name }, 'usage log: partition created');
      return 'created';
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      // 23514: the default partition holds rows of this month (its new constraint would be violated)
      if (code === '23514') return this.moveFromDefault(month);
      // another process created it at the same moment
      if ((code === '42P07' || code === '23505') && (await this.exists(month.name))) return 'exists';
      throw e;
    }
  }

  /**
   * One transaction: lock the log against writes (reads go on), take the month's rows out of the
   * default partition into a temporary table, create the partition, put the rows back through the
   * parent (they route to the new partition). Either all of it happens or none; no row is ever
   * visible twice or missing to a reader.
   */
  private async moveFromDefault(month: Month): Promise<PartitionOutcome> {
    const moved = await this.db.transaction(async (m) => {
      // SHARE ROW EXCLUSIVE: no row can enter the default meanwhile, and a second process doing the
      // same move waits here rather than deadlocking on the partition creation's own lock
      await m.query('LOCK TABLE usage_log IN SHARE ROW EXCLUSIVE MODE');
      if ((await m.query('SELECT to_regclass($1) IS NOT NULL AS e', [month.name]))[0].e) return -1;
      await m.query('CREATE TEMPORARY TABLE usage_log_moving (LIKE usage_log) ON COMMIT DROP');
      await m.query(
        `WITH gone AS (DELETE FROM usage_log_default WHERE created_at >= $1 AND created_at < $2 RETURNING *)
         INSERT INTO usage_log_moving SELECT * FROM gone`,
        [month.start, month.end],
      );
      await this.createPartition(m, month);
      const rows = (await m.query('INSERT INTO usage_log SELECT * FROM usage_log_moving RETURNING 1')) as unknown[];
      return rows.length;
    });
    if (moved < 0) return 'exists';
    this.logger.warn(
      { partition: month.name, rows: moved },
      'usage log: partition created, rows moved out of the default partition',
    );
    return 'moved';
  }

  private async createPartition(m: EntityManager, month: Month): Promise<void> {
    // the function's bounds are date literals read in the session time zone: make them UTC months,
    // the same days GET /v1/usage groups by
    await m.query(`SET LOCAL TIME ZONE 'UTC'`);
    await m.query('SELECT usage_log_ensure_partition($1::date)', [month.day]);
  }

  private async exists(name: string): Promise<boolean> {
    const rows = (await this.db.query('SELECT to_regclass($1) IS NOT NULL AS e', [name])) as Array<{ e: boolean }>;
    return rows[0].e;
  }

  private async ensureUpcomingLogged(): Promise<void> {
    try {
      await this.ensureUpcoming();
    } catch (e) {
      // not fatal: rows still land in the default partition, and the next check tries again
      this.logger.error({ err: (e as Error).message }, 'usage log: could not create upcoming partitions');
    }
  }
}

interface Month {
  name: string;
  /** 'YYYY-MM-01' */
  day: string;
  start: string;
  end: string;
}

function monthOf(d: Date): Month {
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  const day = start.toISOString().slice(0, 10);
  return {
    name: `usage_log_${day.slice(0, 4)}_${day.slice(5, 7)}`,
    day,
    start: start.toISOString(),
    end: end.toISOString(),
  };
}
