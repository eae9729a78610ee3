import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, Logger } from '../logging/logger';
import { sendError } from './envelope';
import { GatewayError } from './gateway-error';
import { isConnectionError, toGatewayError } from './to-gateway-error';

/** The one global filter: any error on any route, in the envelope of the route's surface. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly report: ErrorReporter;

  constructor(@Inject(LOGGER) logger: Logger) {
    this.report = errorReporter(logger);
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const err = toGatewayError(exception);
    this.report(req, exception, err);
    sendError(req, res, err);
  }
}

export type ErrorReporter = (req: Request, exception: unknown, err: GatewayError) => void;

const OUTAGE_LOG_EVERY_MS = 10_000;

/**
 * What the operator must hear about: every unexpected error (with its stack, never its SQL: see the
 * logger's err serializer), and a lost Postgres or Redis connection, at most once per 10 s with a count
 * (an outage fails every request; one line per request would drown the log).
 */
export function errorReporter(logger: Logger): ErrorReporter {
  let lastOutageLog = 0;
  let suppressed = 0;
  return (req, exception, err) => {
    if (err.code === 'internal_error') {
      logger.error({ req_id: req.id, err: exception }, 'unhandled error');
    } else if (err.code === 'service_unavailable' && isConnectionError(exception)) {
      const now = Date.now();
      if (now - lastOutageLog < OUTAGE_LOG_EVERY_MS) {
        suppressed++;
        return;
      }
      logger.error(
        { req_id: req.id, err: exception, since_last: suppressed },
        'a dependency is unreachable (Postgres or Redis): answering 503',
      );
      lastOutageLog = now;
      suppressed = 0;
    }
  };
}
