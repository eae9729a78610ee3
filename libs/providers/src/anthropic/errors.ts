// Anthropic error statuses and bodies -> client-safe errors (scrubbed by the providers' shared sanitizer).
import type { UpstreamErrorInfo } from '../types';
import { sanitizeMessage } from '../sanitize';

/** The message of Anthropic's envelope `{type:'error', error:{type, message}}`, of a bare `{message}`, or of a JSON string. */
export function upstreamErrorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    const text = body.trim();
    if (text.startsWith('{')) {
      try {
        return upstreamErrorMessage(JSON.parse(text));
      } catch {
        return undefined;
      }
    }
    // proxies answer HTML error pages; they say nothing useful and may name hosts
    return text === '' || text.startsWith('<') ? undefined : text;
  }
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { error?: unknown; message?: unknown };
  if (b.error && typeof b.error === 'object') {
    const m = (b.error as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  }
  if (typeof b.error === 'string') return b.error;
  return typeof b.message === 'string' ? b.message : undefined;
}

export function mapError(status: number, body: unknown): UpstreamErrorInfo {
  if (status === 401 || status === 403) {
    // Never the upstream's text: it may quote the key or name the account.
    return {
      retryable: false,
      code: 'upstream_error',
      message: "the upstream provider refused the gateway's credentials",
    };
  }
  if (status === 429) {
    return { retryable: true, code: 'upstream_error', message: 'the upstream provider is rate limiting requests' };
  }
  if (status === 529) {
    return { retryable: true, code: 'upstream_error', message: 'the upstream provider is overloaded' };
  }
  if (status === 408) {
    return { retryable: true, code: 'upstream_error', message: 'the upstream provider timed out' };
  }
  if (status >= 500) {
    return { retryable: true, code: 'upstream_error', message: `the upstream provider failed (status ${status})` };
  }
  if (status === 400 || status === 404 || status === 413 || status === 422) {
    const raw = upstreamErrorMessage(body);
    const message = raw ? sanitizeMessage(raw) : '';
    return { retryable: false, code: 'bad_request', message: message || 'the upstream provider rejected the request' };
  }
  return { retryable: false, code: 'upstream_error', message: `the upstream provider answered with status ${status}` };
}
