import type { UpstreamErrorInfo } from '../types';
import { CREDENTIALS_MESSAGE, isRecord, sanitizeMessage } from '../sanitize';

/** OpenAI-compatible error bodies: `{error: {message, type, param, code}}` (some servers: `{detail}` or text). */
export function openaiMapError(status: number, body: unknown): UpstreamErrorInfo {
  const err = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const raw =
    (typeof err?.message === 'string' && err.message) ||
    (isRecord(body) && typeof body.detail === 'string' && body.detail) ||
    (isRecord(body) && typeof body.message === 'string' && body.message) ||
    (typeof body === 'string' && body) ||
    '';
  if (status === 401 || status === 403)
    return { retryable: false, code: 'upstream_error', message: CREDENTIALS_MESSAGE };
  if (status === 429)
    return { retryable: true, code: 'upstream_error', message: 'the upstream provider is rate limiting requests' };
  if (status === 408 || status >= 500) {
    return {
      retryable: true,
      code: status === 504 || status === 408 ? 'upstream_timeout' : 'upstream_error',
      message: `the upstream provider failed with ${status}`,
    };
  }
  if (status === 400 || status === 404 || status === 413 || status === 422) {
    return {
      retryable: false,
      code: 'bad_request',
      message: sanitizeMessage(raw) || 'the upstream provider rejected the request',
    };
  }
  return { retryable: false, code: 'upstream_error', message: `the upstream provider answered ${status}` };
}
