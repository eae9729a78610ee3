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
}

/**
 * Everything that can be thrown on a request path, as a GatewayError: our own errors, Nest's
 * HttpExceptions (validation pipe, unknown routes), body-parser failures, and the rest (500, no details).
 */
export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  if (e instanceof HttpException) {
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
    return new GatewayError(
      STATUS_TO_CODE[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'),
      message,
      param,
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
  return new GatewayError('internal_error', 'The server had an error while processing your request.');
}
