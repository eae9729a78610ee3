// First middleware on every request: request id, then metrics and one access-log line when it ends.
// Never logs headers, query strings or bodies (they carry keys and prompts).
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { MetricsService } from '../metrics/metrics.service';

const VALID_ID = /^[A-Za-z0-9._-]{8,128}$/;

export function requestContext(metrics: MetricsService | null, logger: Logger) {
  const logAccess = logger.isLevelEnabled('info');
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
    req.startedAt = process.hrtime.bigint();
    res.setHeader('x-request-id', req.id);
    res.setHeader('x-mikan-request-id', req.id); // seed 000's name for the same id; its clients quote it
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - req.startedAt) / 1e9;
      const status = res.writableFinished ? res.statusCode : 499; // 499: the client went away first
      const route = routeLabel(req);
      if (metrics) {
        const labels = { method: req.method, route, status: String(status) };
        metrics.httpRequests.inc(labels);
        metrics.httpDuration.observe(labels, seconds);
      }
      if (logAccess) {
        logger.info(
          { req_id: req.id, method: req.method, path: req.path, route, status, ms: Math.round(seconds * 1e4) / 10 },
          'request',
        );
      }
    });
    next();
  };
}

// The matched route pattern keeps metric cardinality bounded (ids stay out of labels).
function routeLabel(req: Request): string {
  const r = (req as Request & { route?: { path?: unknown } }).route;
  if (r && typeof r.path === 'string') return req.baseUrl + r.path;
  return 'unmatched';
}
