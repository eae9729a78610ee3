// Bodies are parsed once, here. /v1 accepts JSON whatever the content type says (curl -d sends
// form-urlencoded by default); the Stripe webhook keeps its raw bytes for the signature check.
import express, { NextFunction, Request, Response } from 'express';
import { sendError } from '../errors/envelope';
import { errorReporter } from '../errors/all-exceptions.filter';
import { toGatewayError } from '../errors/to-gateway-error';
import type { Logger } from '../logging/logger';

const MULTIPART = /^multipart\//i;

export function bodyParsers(limit: number, logger: Logger) {
  const raw = express.raw({ type: () => true, limit });
  const json = express.json({
    limit,
    strict: true,
    type: (req) => !MULTIPART.test(String(req.headers['content-type'] ?? '')),
  });
  const report = errorReporter(logger);
  return [
    (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/webhooks/')) {
        raw(req, res, (err?: unknown) => {
          if (err) return next(err);
          if (Buffer.isBuffer(req.body)) req.rawBody = req.body;
          next();
        });
        return;
      }
      json(req, res, next);
    },
    // Parser failures (malformed JSON, too large, a body that is not what its encoding says) answer in
    // the contract's envelope; anything unexpected is logged like any other unhandled error.
    (err: unknown, req: Request, res: Response, next: NextFunction) => {
      if (!err) return next();
      const e = toGatewayError(err);
      report(req, err, e);
      sendError(req, res, e);
    },
  ];
}
