// Tokens per minute as a sliding window approximated by two fixed one-minute buckets: the previous
// minute counts in proportion to how much of it is still inside the last 60 s (Cloudflare's approach).
// check.lua.ts reads, record.lua.ts adds; both use these rules.

export const MINUTE_US = 60_000_000;

/** Tokens of the previous and of the current minute, as seen at a given time. */
export interface TokenBuckets {
  prev: number;
  cur: number;
}

export function minuteOf(nowUs: number): number {
  return Math.floor(nowUs / MINUTE_US);
}

/** The stored buckets {minute, cur, prev} rolled forward to the minute of `nowUs`. */
export function rollBuckets(stored: { minute: number; cur: number; prev: number } | null, nowUs: number): TokenBuckets {
  const minute = minuteOf(nowUs);
  if (!stored) return { prev: 0, cur: 0 };
  if (stored.minute === minute) return { prev: stored.prev, cur: stored.cur };
  if (stored.minute === minute - 1) return { prev: stored.cur, cur: 0 };
  return { prev: 0, cur: 0 };
}

/** Share of the previous minute still inside the sliding window, 1 at a minute's start, near 0 at its end. */
export function previousShare(nowUs: number): number {
  return (MINUTE_US - (nowUs - minuteOf(nowUs) * MINUTE_US)) / MINUTE_US;
}

export function windowTokens(b: TokenBuckets, nowUs: number): number {
  return b.prev * previousShare(nowUs) + b.cur;
}

/** Refused when the window already holds the cap: tokens are only known after a request. */
export function tokensRefused(b: TokenBuckets, cap: number, nowUs: number): boolean {
  return windowTokens(b, nowUs) >= cap;
}

/** How long until the window holds fewer tokens than the cap, if no more are added. */
export function tokenRetryAfterUs(b: TokenBuckets, cap: number, nowUs: number): number {
  const elapsed = nowUs - minuteOf(nowUs) * MINUTE_US;
  const toNextMinute = MINUTE_US - elapsed;
  if (windowTokens(b, nowUs) < cap) return 0;
  if (cap <= 0) return toNextMinute; // nothing is ever allowed; look again next minute
  if (b.cur < cap) {
    // prev × (1 - t/M) + cur < cap  <=>  t > M × (1 - (cap - cur) / prev); prev > 0 here
    const t = MINUTE_US * (1 - (cap - b.cur) / b.prev);
    return Math.max(1, Math.floor(t - elapsed) + 1);
  }
  // this minute's tokens alone fill the cap: they have to slide out during the next minute
  return toNextMinute + Math.floor(MINUTE_US * (1 - cap / b.cur)) + 1;
}

/** When the window is empty again (the full cap available). */
export function tokenResetUs(b: TokenBuckets, nowUs: number): number {
  const start = minuteOf(nowUs) * MINUTE_US;
  if (b.cur > 0) return start + 2 * MINUTE_US;
  if (b.prev > 0) return start + MINUTE_US;
  return nowUs;
}
