import { HttpException } from '@nestjs/common';
import { GatewayError } from './gateway-error';
import { ErrorCode } from './error-codes';

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'invalid_credentials',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limit_exceeded',
  503: 'service_unavailable',
};

interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  code?: unknown;
}

/** How long a client should wait before retrying when Postgres or Redis is away (as /readyz says). */
export const DEPENDENCY_RETRY_AFTER_SECONDS = '5';

/**
 * Everything that can be thrown on a request path, as a GatewayError: our own errors, Nest's
 * HttpExceptions (validation pipe, unknown routes), body-parser failures, a lost Postgres or Redis
 * connection (503), and the rest (500, no details).
 */
export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof HttpException) return fromHttpException(e);
  if (isConnectionError(e)) {
    return new GatewayError(
      'service_unavailable',
      'A service this request needs (database or cache) is unavailable; try again shortly.',
      null,
      { 'Retry-After': DEPENDENCY_RETRY_AFTER_SECONDS },
    );
  }
  const bp = e as BodyParserError;
  if (bp && typeof bp === 'object' && typeof bp.type === 'string') {
    switch (bp.type) {
      case 'entity.parse.failed':
        return new GatewayError('bad_request', 'The request body is not valid JSON.');
      case 'entity.too.large':
        return new GatewayError('payload_too_large', 'The request body is larger than the size limit.');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return new GatewayError('unsupported_media_type', bp.message ?? 'Unsupported content encoding.');
      case 'request.aborted':
        return new GatewayError('bad_request', 'The request was aborted by the client.');
      default:
        if (bp.expose && (bp.status ?? bp.statusCode ?? 500) < 500)
          return new GatewayError('bad_request', bp.message ?? 'Bad request.');
    }
  }
  // body-parser passes zlib's own error (no `type`) when a body does not match its Content-Encoding
  if (isDecompressionError(e)) {
    return new GatewayError(
      'bad_request',
      'The request body could not be decompressed: it does not match its Content-Encoding.',
      'Content-Encoding',
    );
  }
  return new GatewayError('internal_error', 'The server had an error while processing your request.');
}

function fromHttpException(e: HttpException): GatewayError {
  const status = e.getStatus();
  const res = e.getResponse();
  let message = e.message;
  let param: string | null = null;
  if (typeof res === 'object' && res !== null) {
    const r = res as { message?: unknown; param?: unknown };
    if (Array.isArray(r.message)) message = r.message.join('; ');
    else if (typeof r.message === 'string') message = r.message;
    if (typeof r.param === 'string') param = r.param;
  }
  if (status === 404)
    return new GatewayError(
      'not_found',
      message.startsWith('Cannot ') ? `Unknown route: ${message.slice(7)}` : message,
    );
  return new GatewayError(STATUS_TO_CODE[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'), message, param);
}

function isDecompressionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  // Z_DATA_ERROR, Z_BUF_ERROR (gzip, deflate); ERR__ERROR_FORMAT_* and ERR_BROTLI_* (br)
  return typeof code === 'string' && /^(Z_|ERR__ERROR_FORMAT|ERR_BROTLI|ERR_ZLIB)/.test(code);
}

// Socket-level codes, and Postgres SQLSTATEs that mean "the server is there but will not serve now":
// 57P01-57P03 shutting down / starting up, 53300 too many connections, class 08 connection exceptions.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
// What pg, pg-pool and ioredis say when a connection is lost or cannot be had (they set no code).
const CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Connection is closed|Command timed out|Reached the max retries per request limit)/i;

/** A lost or refused Postgres or Redis connection (TypeORM wraps pg's error as `driverError`). */
export function isConnectionError(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== 'object' || depth > 3) return false;
  const x = e as { code?: unknown; message?: unknown; name?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof x.code === 'string' && CONNECTION_CODES.has(x.code)) return true;
  if (x.name === 'MaxRetriesPerRequestError') return true;
  if (typeof x.message === 'string' && CONNECTION_MESSAGES.test(x.message)) return true;
  return isConnectionError(x.driverError, depth + 1) || isConnectionError(x.cause, depth + 1);
}
