// Bodies are parsed once, here. /v1 accepts JSON whatever the content type says (curl -d sends
// form-urlencoded by default); the Stripe webhook keeps its raw bytes for the signature check.
import express, { NextFunction, Request, Response } from 'express';
import { sendError } from '../errors/envelope';
import { toGatewayError } from '../errors/to-gateway-error';

const MULTIPART = /^multipart\//i;

export function bodyParsers(limit: number) {
  const raw = express.raw({ type: () => true, limit });
  const json = express.json({
    limit,
    strict: true,
    type: (req) => !MULTIPART.test(String(req.headers['content-type'] ?? '')),
  });
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
    // Parser failures (malformed JSON, too large) answer in the contract's envelope.
    (err: unknown, req: Request, res: Response, next: NextFunction) => {
      if (!err) return next();
      sendError(req, res, toGatewayError(err));
    },
  ];
}
