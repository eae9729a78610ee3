import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { LOGGER, Logger } from '../logging/logger';
import { sendError } from './envelope';
import { toGatewayError } from './to-gateway-error';

/** The one global filter: any error on any route, in the envelope of the route's surface. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const err = toGatewayError(exception);
    if (err.status >= 500 && err.code === 'internal_error') {
      this.logger.error({ req_id: req.id, err: exception }, 'unhandled error');
    }
    sendError(req, res, err);
  }
}
