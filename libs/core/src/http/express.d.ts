// Fields the request pipeline attaches to Express requests.
import 'express';

declare module 'express-serve-static-core' {
  interface Request {
    /** request id, also sent back as x-request-id */
    id: string;
    /** process.hrtime.bigint() when the request arrived */
    startedAt: bigint;
    /** the raw body, kept only for routes that verify signatures (Stripe) */
    rawBody?: Buffer;
  }
}
