// Gemini error bodies ({error: {code, message, status}}) as client-safe gateway errors.
import type { UpstreamErrorInfo } from '../types';
import type { GeminiErrorBody } from './types';
import { isRecord } from './upstream';

const CREDENTIALS_MESSAGE = "the upstream provider refused the gateway's credentials";
const MAX_MESSAGE_LENGTH = 500;

/** Gemini answers a wrong key with 400 INVALID_ARGUMENT; these reasons mean the key, not the request. */
const CREDENTIAL_REASONS = new Set(['API_KEY_INVALID', 'API_KEY_SERVICE_BLOCKED', 'API_KEY_HTTP_REFERRER_BLOCKED']);

const SECRET_AND_LOCATION_PATTERNS: Array<[RegExp, string]> = [
  [/AIza[0-9A-Za-z_-]{10,}/g, '[redacted key]'],
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted key]'],
  [/\bya29\.[A-Za-z0-9._-]+/g, '[redacted token]'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, '[url]'],
  // IPv6: four or more groups, or a '::' compression (times such as 12:30:45 stay untouched).
  [/\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b/gi, '[ip]'],
  [/(?<![\w:])(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?![\w:])/gi, '[ip]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '[ip]'],
  [
    /\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|ai|app|cloud|internal|local|lan|corp|googleapis\.com)(?::\d+)?\b/gi,
    '[host]',
  ],
  [/\blocalhost(?::\d+)?\b/gi, '[host]'],
];

/** Removes keys, tokens, URLs, hosts and IPs from an upstream message and bounds its length. */
export function sanitizeMessage(message: string): string {
  let out = message;
  for (const [pattern, replacement] of SECRET_AND_LOCATION_PATTERNS) out = out.replace(pattern, replacement);
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > MAX_MESSAGE_LENGTH ? `${out.slice(0, MAX_MESSAGE_LENGTH)}...` : out;
}

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
