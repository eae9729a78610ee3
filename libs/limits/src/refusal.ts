// Turning limit statuses into the contract's headers and 429 errors (DESIGN.md "Errors": X-RateLimit-*
// on every limited response, Retry-After on 429).
import { ErrorCode, GatewayError } from '@switchyard/core';
import { LimitKind, LimitStatus } from './limit-status';

export function rateLimitHeaders(s: LimitStatus): Record<string, string> {
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': s.limit,
    'X-RateLimit-Remaining': s.remaining,
    'X-RateLimit-Reset': isoSeconds(s.resetUs),
  };
  if (s.refused) headers['Retry-After'] = String(retryAfterSeconds(s.retryAfterUs));
  return headers;
}

/** Whole seconds, rounded up, at least 1: a client that waits that long is not refused again by this cap. */
export function retryAfterSeconds(us: number): number {
  return Math.max(1, Math.ceil(us / 1_000_000));
}

// Every request of a window shares its reset: the last one formatted is kept (a Date, an ISO string and
// a replace per request otherwise).
let lastSecond = NaN;
let lastIso = '';

/** ISO 8601 rounded up to the second ("2025-01-02T03:04:05Z"). */
export function isoSeconds(us: number): string {
  const second = Math.ceil(us / 1_000_000);
  if (second !== lastSecond) {
    lastIso = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastSecond = second;
  }
  return lastIso;
}

// On equal waits, the cap that tells the client most: lasting ones first, the key before the workspace.
const KIND_ORDER: LimitKind[] = ['daily_spend', 'daily_requests', 'tpm', 'rpm'];
const SCOPE_ORDER = ['key', 'workspace', 'ip'];

/** Of several caps that refused, the one with the longest wait: retrying earlier would be refused anyway. */
export function pickRefusal(refusals: LimitStatus[]): LimitStatus {
  if (refusals.length === 0) throw new Error('pickRefusal: nothing refused');
  const rank = (s: LimitStatus) => KIND_ORDER.indexOf(s.kind) * 10 + SCOPE_ORDER.indexOf(s.scope);
  return refusals.reduce((best, s) =>
    s.retryAfterUs > best.retryAfterUs || (s.retryAfterUs === best.retryAfterUs && rank(s) < rank(best)) ? s : best,
  );
}

const CODES: Record<LimitKind, ErrorCode> = {
  rpm: 'rate_limit_exceeded',
  tpm: 'token_quota_exhausted',
  daily_requests: 'daily_limit_reached',
  daily_spend: 'daily_limit_reached',
};

export function refusalMessage(s: LimitStatus): string {
  const who = s.scope === 'key' ? 'this API key' : 'this workspace';
  const retry = `Retry after ${retryAfterSeconds(s.retryAfterUs)} s.`;
  switch (s.kind) {
    case 'rpm':
      return s.scope === 'ip'
        ? `Too many requests from this IP address (safety net of ${s.limit} requests). ${retry}`
        : `Rate limit exceeded: ${who} allows ${s.limit} requests per minute. ${retry}`;
    case 'tpm':
      return `Token quota exhausted: ${who} allows ${s.limit} tokens per minute. ${retry}`;
    case 'daily_requests':
      return `Daily limit reached: ${who} allows ${s.limit} requests per day; it resets at ${isoSeconds(s.resetUs)}.`;
    case 'daily_spend':
      return `Daily limit reached: ${who} may spend ${s.limit} per day; it resets at ${isoSeconds(s.resetUs)}.`;
  }
}

export function refusalError(s: LimitStatus): GatewayError {
  return new GatewayError(CODES[s.kind], refusalMessage(s), null, rateLimitHeaders({ ...s, refused: true }));
}
