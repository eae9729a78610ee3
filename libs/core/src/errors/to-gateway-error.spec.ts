import { gunzipSync } from 'node:zlib';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { GatewayError } from './gateway-error';
import { isConnectionError, toGatewayError } from './to-gateway-error';

function zlibError(): unknown {
  try {
    gunzipSync(Buffer.from('{"not":"gzip"}'));
  } catch (e) {
    return e;
  }
  throw new Error('expected a zlib error');
}

describe('toGatewayError', () => {
  it('passes GatewayErrors through and maps Nest HttpExceptions', () => {
    const g = new GatewayError('bad_request', 'x', 'p');
    expect(toGatewayError(g)).toBe(g);
    expect(toGatewayError(new NotFoundException('Cannot GET /x')).message).toBe('Unknown route: GET /x');
    expect(toGatewayError(new BadRequestException('nope')).code).toBe('bad_request');
  });

  it('a body that does not match its Content-Encoding is 400 bad_request, not 500', () => {
    const e = toGatewayError(zlibError());
    expect({ code: e.code, status: e.status, param: e.param }).toEqual({
      code: 'bad_request',
      status: 400,
      param: 'Content-Encoding',
    });
    // brotli says it differently
    expect(
      toGatewayError(Object.assign(new Error('Decompression failed'), { code: 'ERR__ERROR_FORMAT_PADDING_2' })).code,
    ).toBe('bad_request');
  });

  it.each([
    ['refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['pg: lost connection', new Error('Connection terminated unexpectedly')],
    ['pg: connect timeout', new Error('Connection terminated due to connection timeout')],
    ['pg-pool: pool timeout', new Error('timeout exceeded when trying to connect')],
    ['pg: broken client', new Error('Client has encountered a connection error and is not queryable')],
    [
      'postgres shutting down (TypeORM-wrapped)',
      new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection'), { code: '57P01' })),
    ],
    ['too many connections', Object.assign(new Error('sorry, too many clients already'), { code: '53300' })],
    ['ioredis: closed', new Error('Connection is closed.')],
    [
      'ioredis: retries',
      Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }),
    ],
  ])('a lost dependency (%s) is 503 service_unavailable with Retry-After', (_what, err) => {
    expect(isConnectionError(err)).toBe(true);
    const e = toGatewayError(err);
    expect({ code: e.code, status: e.status, retryAfter: e.headers['Retry-After'] }).toEqual({
      code: 'service_unavailable',
      status: 503,
      retryAfter: expect.stringMatching(/^[1-9]\d*$/),
    });
  });

  it('a query that fails for another reason stays 500 internal_error', () => {
    const missing = new QueryFailedError(
      'SELECT * FROM workspaces_gone',
      [],
      Object.assign(new Error('relation "workspaces_gone" does not exist'), { code: '42P01' }),
    );
    expect(isConnectionError(missing)).toBe(false);
    expect(toGatewayError(missing).code).toBe('internal_error');
    expect(toGatewayError(new TypeError('x is undefined')).code).toBe('internal_error');
  });
});
