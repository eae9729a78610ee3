import { GatewayError } from '@switchyard/core';
import { LimitStatus } from './limit-status';
import { isoSeconds, pickRefusal, rateLimitHeaders, refusalError, retryAfterSeconds } from './refusal';

const S = 1_000_000;
const NOW = Date.parse('2025-05-05T12:00:30.250Z') * 1000;

function status(over: Partial<LimitStatus>): LimitStatus {
  return {
    scope: 'key',
    kind: 'rpm',
    refused: true,
    limit: '60',
    remaining: '0',
    resetUs: NOW + 60 * S,
    retryAfterUs: S,
    ...over,
  };
}

describe('headers', () => {
  it('describes the limit with an ISO 8601 reset, and Retry-After only when refused', () => {
    expect(rateLimitHeaders(status({ refused: false, remaining: '59', retryAfterUs: 0 }))).toEqual({
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '59',
      'X-RateLimit-Reset': '2025-05-05T12:01:31Z',
    });
    expect(rateLimitHeaders(status({}))['Retry-After']).toBe('1');
  });

  it('Retry-After is whole seconds rounded up, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(S)).toBe(1);
    expect(retryAfterSeconds(S + 1)).toBe(2);
    expect(isoSeconds(Date.parse('2025-01-01T00:00:00Z') * 1000)).toBe('2025-01-01T00:00:00Z');
  });

  it('formats each reset right when resets alternate (the last one formatted is reused)', () => {
    const a = Date.parse('2025-01-01T00:00:00Z') * 1000;
    const b = Date.parse('2025-06-30T12:34:56Z') * 1000;
    for (const [us, iso] of [
      [a, '2025-01-01T00:00:00Z'],
      [a + 1, '2025-01-01T00:00:01Z'],
      [b, '2025-06-30T12:34:56Z'],
      [b, '2025-06-30T12:34:56Z'],
      [a, '2025-01-01T00:00:00Z'],
    ] as const)
      expect(isoSeconds(us)).toBe(iso);
  });
});

describe('pickRefusal', () => {
  it('the longest wait wins', () => {
    const rpm = status({ retryAfterUs: 2 * S });
    const daily = status({ kind: 'daily_requests', scope: 'workspace', retryAfterUs: 3600 * S });
    expect(pickRefusal([rpm, daily])).toBe(daily);
  });

  it('on equal waits, lasting caps before rpm, the key before the workspace', () => {
    const wsRpm = status({ scope: 'workspace' });
    const keyRpm = status({});
    const tpm = status({ kind: 'tpm', scope: 'workspace' });
    expect(pickRefusal([wsRpm, keyRpm])).toBe(keyRpm);
    expect(pickRefusal([wsRpm, keyRpm, tpm])).toBe(tpm);
    expect(() => pickRefusal([])).toThrow();
  });
});

describe('refusalError', () => {
  it.each([
    ['rpm', 'rate_limit_exceeded'],
    ['tpm', 'token_quota_exhausted'],
    ['daily_requests', 'daily_limit_reached'],
    ['daily_spend', 'daily_limit_reached'],
  ] as const)('%s refusals are 429 %s with the limit headers and Retry-After', (kind, code) => {
    const e = refusalError(status({ kind, retryAfterUs: 2.5 * S }));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.status).toBe(429);
    expect(e.code).toBe(code);
    expect(e.headers).toMatchObject({ 'X-RateLimit-Limit': '60', 'X-RateLimit-Remaining': '0', 'Retry-After': '3' });
  });

  it('the per-IP net says so', () => {
    expect(refusalError(status({ scope: 'ip', limit: '5000' })).message).toMatch(/IP address/);
  });
});
