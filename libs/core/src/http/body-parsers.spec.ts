import { Writable } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import { createLogger } from '../logging/logger';
import { bodyParsers } from './body-parsers';

function capture() {
  const lines: Array<{ msg: string; req_id?: string; err?: { message: string } }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString('utf8')));
      cb();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

function fakeExchange() {
  const sent: { status?: number; body?: unknown } = {};
  const req = { id: 'req-1', originalUrl: '/v1/chat/completions', url: '/v1/chat/completions' } as unknown as Request;
  const res = {
    headersSent: false,
    locals: {},
    setHeader: () => undefined,
    status(s: number) {
      sent.status = s;
      return this;
    },
    json(b: unknown) {
      sent.body = b;
      return this;
    },
  } as unknown as Response;
  return { req, res, sent };
}

describe('body parser failures', () => {
  const onError = (logger: ReturnType<typeof createLogger>) =>
    bodyParsers(1024, logger)[1] as unknown as (e: unknown, req: Request, res: Response, next: NextFunction) => void;

  it('an error the parsers do not know is 500 in the envelope and logged as unhandled', () => {
    const { lines, logger } = capture();
    const { req, res, sent } = fakeExchange();
    onError(logger)(new Error('something odd in the stream'), req, res, () => undefined);
    expect(sent.status).toBe(500);
    expect(sent.body).toMatchObject({ error: { code: 'internal_error' } });
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'unhandled error',
        req_id: 'req-1',
        err: expect.objectContaining({ message: 'something odd in the stream' }),
      }),
    ]);
  });

  it('a known client mistake (a body that is not gzip) is 400 and not logged as an error', () => {
    const { lines, logger } = capture();
    const { req, res, sent } = fakeExchange();
    const zlib = Object.assign(new Error('incorrect header check'), {
      code: 'Z_DATA_ERROR',
      status: 400,
      expose: true,
    });
    onError(logger)(zlib, req, res, () => undefined);
    expect(sent.status).toBe(400);
    expect(sent.body).toMatchObject({ error: { code: 'bad_request', param: 'Content-Encoding' } });
    expect(lines).toEqual([]);
  });
});
