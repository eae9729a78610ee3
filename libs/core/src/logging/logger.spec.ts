import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { createLogger, serializeError } from './logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

/** A QueryFailedError as TypeORM builds it: the SQL, its parameters and pg's own error with `detail`. */
function queryFailed(): QueryFailedError {
  const driverError = Object.assign(new Error('duplicate key value violates unique constraint "x"'), {
    code: '23505',
    detail: 'Key (email)=(secret-email@example.test) already exists.',
  });
  return new QueryFailedError(
    'INSERT INTO admin_users (email, password_hash) VALUES ($1, $2)',
    ['secret-email@example.test', '$argon2id$v=19$m=19456,t=2,p=1$SECRETHASH'],
    driverError,
  );
}

describe('the err serializer', () => {
  it('keeps type, message, code and stack of a TypeORM error, and drops its query, parameters and driver error', () => {
    const { lines, logger } = capture();
    logger.error({ req_id: 'r1', err: queryFailed() }, 'unhandled error');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as { err: Record<string, unknown> };
    expect(line.err).toEqual({
      type: 'QueryFailedError',
      message: 'duplicate key value violates unique constraint "x"',
      code: '23505',
      stack: expect.stringContaining('QueryFailedError'),
    });
    expect(lines[0]).not.toMatch(/INSERT|secret-email|SECRETHASH|argon2|driverError|parameters|detail/);
  });

  it('serializes causes the same way, and leaves non-errors alone', () => {
    const wrapped = new Error('could not load', { cause: queryFailed() });
    const out = serializeError(wrapped) as { cause: Record<string, unknown> };
    expect(Object.keys(out.cause).sort()).toEqual(['code', 'message', 'stack', 'type']);
    expect(serializeError('a message')).toBe('a message');
    expect(serializeError({ a: 1 })).toEqual({ a: 1 });
  });
});
