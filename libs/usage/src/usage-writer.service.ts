// Writes the usage log off the request path: `record` only pushes to memory; a timer (every
// USAGE_FLUSH_MS) or a full batch flushes with one INSERT per batch. A failed batch stays buffered and
// is retried with backoff, so a database hiccup loses no rows; only a buffer past its bound drops the
// oldest rows, counted and logged. A graceful stop flushes everything.
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig, LOGGER, Logger, MetricsService } from '@switchyard/core';
import { INSERT_USAGE_SQL, TOUCH_KEYS_SQL, isRowError, latestKeyUse, usageJson } from './usage-batch-sql';
import { UsageBuffer } from './usage-buffer';
import type { UsageRecord } from './usage-record';

export interface UsageWriterOptions {
  /** buffered rows that trigger a flush before the timer */
  flushAt: number;
  /** rows per INSERT at most (a backlog drains in batches of this size) */
  maxBatch: number;
  /** past this many buffered rows the oldest are dropped (memory stays bounded in a long outage) */
  maxBuffered: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** how long a graceful stop keeps retrying the final flush */
  shutdownTimeoutMs: number;
}

export const DEFAULT_USAGE_WRITER_OPTIONS: UsageWriterOptions = {
  flushAt: 500,
  maxBatch: 1000,
  maxBuffered: 200_000,
  retryBaseMs: 250,
  retryMaxMs: 30_000,
  shutdownTimeoutMs: 15_000,
};

/** Optional overrides of DEFAULT_USAGE_WRITER_OPTIONS (tests shrink the bounds). */
export const USAGE_WRITER_OPTIONS = Symbol('USAGE_WRITER_OPTIONS');

const DROP_LOG_EVERY_MS = 10_000;

@Injectable()
export class UsageWriter implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly opts: UsageWriterOptions;
  private readonly buffer: UsageBuffer<UsageRecord>;
  private timer?: NodeJS.Timeout;
  /** the one drain in progress: batches go out one at a time, in order */
  private writing: Promise<boolean> | null = null;
  private retryAt = 0;
  private failuresInARow = 0;
  private lastError: unknown = null;
  private droppedTotal = 0;
  private droppedUnlogged = 0;
  private dropLoggedAt = 0;

  constructor(
    private readonly db: DataSource,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(USAGE_WRITER_OPTIONS) options?: Partial<UsageWriterOptions>,
  ) {
    this.opts = { ...DEFAULT_USAGE_WRITER_OPTIONS, ...options };
    this.buffer = new UsageBuffer(this.opts.maxBatch);
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.kick(true, false), this.config.usageFlushMs);
    this.timer.unref();
  }

  /** Rows waiting to be written. */
  get buffered(): number {
    return this.buffer.size;
  }

  /** Rows dropped since start because the buffer overflowed during an outage. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** O(1) and synchronous: the request never waits for the database. */
  record(r: UsageRecord): void {
    this.buffer.push(r);
    if (this.buffer.size > this.opts.maxBuffered) this.dropOverflow();
    if (this.buffer.size >= this.opts.flushAt) void this.kick(false, false);
  }

  /** Writes everything buffered now; rejects with the database error if a batch cannot be written. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (this.buffer.size === 0) return;
      if (!(await this.kick(true, true))) throw this.lastError;
    }
  }

  /** The HTTP server is closed by now: nothing new arrives, so flush it all (retrying for a while). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flushBeforeStop();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // rows recorded by other modules' shutdown hooks (settling in-flight requests) after our flush
    if (this.buffer.size === 0) return;
    if (this.db.isInitialized) await this.flushBeforeStop();
    else this.logger.error({ lost: this.buffer.size }, 'usage log: rows recorded after the database closed were lost');
  }

  /**
   * Starts a drain unless one is running. `all` writes every buffered row, otherwise only full
   * batches; `force` ignores the retry backoff. Resolves false when a batch failed (it stays buffered).
   */
  private kick(all: boolean, force: boolean): Promise<boolean> {
    if (this.writing) return this.writing;
    if (this.buffer.size === 0) return Promise.resolve(true);
    if (!force && Date.now() < this.retryAt) return Promise.resolve(false);
    const run = this.drain(all).finally(() => {
      this.writing = null;
    });
    this.writing = run;
    return run;
  }

  private async drain(all: boolean): Promise<boolean> {
    while (this.buffer.size > 0 && (all || this.buffer.size >= this.opts.flushAt)) {
      const batch = this.buffer.take()!;
      try {
        await this.write(batch);
      } catch (e) {
        this.buffer.putBack(batch);
        this.onWriteFailure(e);
        return false;
      }
      this.failuresInARow = 0;
      this.retryAt = 0;
    }
    return true;
  }

  private async write(rows: UsageRecord[]): Promise<void> {
    let written = rows.length;
    try {
      await this.db.query(INSERT_USAGE_SQL, usageJson(rows));
    } catch (e) {
      if (!isRowError(e)) throw e;
      written = await this.writeIsolating(rows, e);
    }
    this.metrics.usageRowsWritten.inc(written);
    await this.touchKeys(rows);
  }

  /**
   * A batch refused for its data (not for the connection) would block the queue forever if retried
   * whole: halve it until the bad rows stand alone, write the rest, drop and log the bad ones.
   */
  private async writeIsolating(rows: UsageRecord[], err: unknown): Promise<number> {
    if (rows.length === 1) {
      this.metrics.usageWriteFailures.inc();
      this.logger.error(
        { err: describe(err), request_id: rows[0].request_id, usage_id: rows[0].id },
        'usage log: row refused by the database, dropped',
      );
      return 0;
    }
    const mid = rows.length >> 1;
    let written = 0;
    for (const half of [rows.slice(0, mid), rows.slice(mid)]) {
      try {
        await this.db.query(INSERT_USAGE_SQL, usageJson(half));
        written += half.length;
      } catch (e) {
        if (!isRowError(e)) throw e; // transient: the whole batch is retried (ON CONFLICT skips the written half)
        written += await this.writeIsolating(half, e);
      }
    }
    return written;
  }

  /** Best effort: the rows are safe already, and the next batch with this key sets it again. */
  private async touchKeys(rows: UsageRecord[]): Promise<void> {
    const [ids, ats] = latestKeyUse(rows);
    if (ids.length === 0) return;
    try {
      await this.db.query(TOUCH_KEYS_SQL, [ids, ats]);
    } catch (e) {
      this.logger.warn({ err: describe(e), keys: ids.length }, 'usage log: could not update api_keys.last_used_at');
    }
  }

  private onWriteFailure(e: unknown): void {
    this.lastError = e;
    this.failuresInARow++;
    this.metrics.usageWriteFailures.inc();
    const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(this.failuresInARow - 1, 16));
    this.retryAt = Date.now() + delay;
    this.dropOverflow(); // a batch put back may push the buffer past its bound
    this.logger.error(
      { err: describe(e), buffered: this.buffer.size, failures_in_a_row: this.failuresInARow, retry_in_ms: delay },
      'usage log: batch write failed, kept for retry',
    );
  }

  private dropOverflow(): void {
    const n = this.buffer.dropOldest(this.opts.maxBuffered);
    if (n === 0) return;
    this.droppedTotal += n;
    this.droppedUnlogged += n;
    this.metrics.usageWriteFailures.inc();
    // one line per 10 s at most: during a long outage this runs once per batch of new rows
    if (Date.now() - this.dropLoggedAt >= DROP_LOG_EVERY_MS) {
      this.logger.error(
        { dropped: this.droppedUnlogged, dropped_total: this.droppedTotal, max_buffered: this.opts.maxBuffered },
        'usage log: buffer full while the database is failing, oldest rows dropped',
      );
      this.droppedUnlogged = 0;
      this.dropLoggedAt = Date.now();
    }
  }

  private async flushBeforeStop(): Promise<void> {
    const deadline = Date.now() + this.opts.shutdownTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (e) {
        const delay = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.min(attempt, 16));
        if (Date.now() + delay >= deadline) {
          this.logger.error(
            { err: describe(e), lost: this.buffer.size },
            'usage log: rows not written before shutdown',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/** The database error without the statement's parameters (a batch's column arrays are huge). */
function describe(e: unknown): { message: string; code?: string } {
  const err = e as { message?: unknown; code?: unknown } | null;
  return {
    message: typeof err?.message === 'string' ? err.message : String(e),
    code: typeof err?.code === 'string' ? err.code : undefined,
  };
}
