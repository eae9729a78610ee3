// Prometheus metrics on one registry per app instance (tests boot several apps in one process).
import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency (until the response ended) by route, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Upstream latency until response headers, by provider and outcome',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'gateway_fallbacks_total',
    help: 'Requests served by a route or fallback other than the first',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });
  readonly limiterFailures = new Counter({
    name: 'limits_redis_failures_total',
    help: 'Limit checks that could not reach Redis, by the policy applied (open or closed)',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });
  readonly usageRowsWritten = new Counter({
    name: 'usage_log_rows_written_total',
    help: 'Usage log rows flushed to Postgres',
    registers: [this.registry],
  });
  readonly usageWriteFailures = new Counter({
    name: 'usage_log_write_failures_total',
    help: 'Usage log batches that failed to write (retried)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
