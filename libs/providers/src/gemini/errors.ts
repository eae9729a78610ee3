// Gemini error bodies ({error: {code, message, status}}) as client-safe gateway errors (the providers'
// shared sanitizer scrubs the text).
import type { UpstreamErrorInfo } from '../types';
import { CREDENTIALS_MESSAGE, sanitizeMessage } from '../sanitize';
import type { GeminiErrorBody } from './types';
import { isRecord } from './upstream';

/** Gemini answers a wrong key with 400 INVALID_ARGUMENT; these reasons mean the key, not the request. */
const CREDENTIAL_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_SERVICE_BLOCKED', 'API_KEY_HTTP_REFERRER_BLOCKED']);

export function readGeminiError(body: unknown): GeminiErrorBody['error'] | undefined {
  // Streamed and some proxied errors arrive as a one-element array.
  const candidate = Array.isArray(body) && body.length === 1 ? body[0] : body;
  return isRecord(candidate) && isRecord(candidate.error) ? (candidate.error as GeminiErrorBody['error']) : undefined;
}

export function mapError(status: number, body: unknown): UpstreamErrorInfo {
  const error = readGeminiError(body);
  const upstreamStatus = typeof error?.status === 'string' ? ` (${error.status.replace(/[^A-Z_]/g, '')})` : '';
  const reasons = (error?.details ?? []).map((d) => (isRecord(d) ? d.reason : undefined));
  const credentialFailure = status === 401 || status === 403 || reasons.some((r) => CREDENTIAL_REASONS.has(String(r)));

  if (credentialFailure) return { retryable: false, code: 'upstream_error', message: CREDENTIALS_MESSAGE };
  if (status === 429) {
    // Quota text names the gateway's own plan and links Google's docs: not the client's business.
    return { retryable: true, code: 'upstream_error', message: 'the upstream provider is rate limiting requests' };
  }
  if (status === 408 || status >= 500) {
    return {
      retryable: true,
      code: 'upstream_error',
      message: `the upstream provider failed with ${status}${upstreamStatus}`,
    };
  }
  if (status === 400 && error?.status === 'FAILED_PRECONDITION') {
    // e.g. "free tier not available in your country": about the gateway's account, another route may work.
    return { retryable: true, code: 'upstream_error', message: 'the upstream provider cannot serve this route' };
  }
  if (status === 400 || status === 404) {
    const detail = typeof error?.message === 'string' ? sanitizeMessage(error.message) : '';
    return { retryable: false, code: 'bad_request', message: detail || `the upstream provider rejected the request` };
  }
  return {
    retryable: false,
    code: 'upstream_error',
    message: `the upstream provider answered ${status}${upstreamStatus}`,
  };
}

/** The message of an error event inside a stream: status name and sanitized text only. */
export function streamErrorMessage(error: GeminiErrorBody['error']): string {
  const status = typeof error.status === 'string' ? error.status.replace(/[^A-Z_]/g, '') : '';
  const text = typeof error.message === 'string' ? sanitizeMessage(error.message) : '';
  const head = status
    ? `the upstream provider failed mid-stream (${status})`
    : 'the upstream provider failed mid-stream';
  return text ? `${head}: ${text}` : head;
}
