// Requests per window (a key's rpm, the per-IP net's 5,000 per 10 minutes) as a sliding window of
// 60 buckets, each 1/60 of the window (1 s for rpm). A request is allowed when the buckets that overlap
// the last window hold fewer than `limit` requests. The oldest of them is only partly inside the window
// and counts whole, so the approximation errs on one side only: no window of the full length ever holds
// more than `limit` allowed requests, and a place comes back at most one bucket later than an exact log
// of timestamps would give it back. Memory stays at 61 counters whatever the limit (a ZSET log would
// keep one entry per request: 5,000 per IP address for the net).
// window.lua.ts runs these rules inside Redis; the model below is what the unit tests pin down, and
// windowStatus() turns what the script read into headers.

export const WINDOW_BUCKETS = 60;

export interface WindowParams {
  limit: number;
  bucketUs: number;
}

export function windowParams(limit: number, windowSeconds: number): WindowParams {
  // a whole number of µs per bucket, rounded up: the counted span never falls short of the window
  return {
    limit: limit > 0 ? Math.floor(limit) : 0,
    bucketUs: Math.ceil((windowSeconds * 1_000_000) / WINDOW_BUCKETS),
  };
}

export function bucketOf(p: WindowParams, nowUs: number): number {
  return Math.floor(nowUs / p.bucketUs);
}

/** What the script read before a request: requests in buckets lo..cur, and (when refused) each bucket's count. */
export interface WindowSeen {
  total: number;
  lo: number;
  /** counts of buckets lo, lo+1, … up to the current one; only sent when the window refused */
  counts: number[];
}

export interface WindowStatus {
  remaining: number;
  /** when every place is back (the newest counted request left the window) */
  resetUs: number;
  /** when the refused request would have been allowed; 0 when allowed */
  retryAfterUs: number;
}

/** Bucket i stops counting once bucket i + 61 begins. */
const leavesAt = (p: WindowParams, bucket: number) => (bucket + WINDOW_BUCKETS + 1) * p.bucketUs;

export function windowStatus(p: WindowParams, nowUs: number, seen: WindowSeen, refused: boolean): WindowStatus {
  const cur = Math.max(bucketOf(p, nowUs), seen.lo);
  if (!refused) {
    return { remaining: Math.max(0, p.limit - seen.total - 1), resetUs: leavesAt(p, cur), retryAfterUs: 0 };
  }
  // the oldest buckets must leave until fewer than `limit` requests remain counted
  const mustLeave = seen.total - p.limit + 1;
  let left = 0;
  let retryAt = 0;
  let newest = -1;
  for (let i = 0; i < seen.counts.length; i++) {
    const c = seen.counts[i];
    if (c > 0) newest = seen.lo + i;
    left += c;
    if (!retryAt && p.limit > 0 && left >= mustLeave) retryAt = leavesAt(p, seen.lo + i);
  }
  // a cap of 0 lets nothing through: look again a window later
  if (!retryAt) retryAt = nowUs + WINDOW_BUCKETS * p.bucketUs;
  return {
    remaining: 0,
    resetUs: newest >= 0 ? leavesAt(p, newest) : retryAt,
    retryAfterUs: Math.max(1, retryAt - nowUs),
  };
}

/** The script's state, as a plain object: oldest counted bucket, total, and the buckets' counts. */
export interface WindowState {
  lo: number | null;
  total: number;
  buckets: Map<number, number>;
}

export const emptyWindow = (): WindowState => ({ lo: null, total: 0, buckets: new Map() });

/**
 * One request at `nowUs`, as window.lua.ts decides it (evict buckets that left, refuse at the limit,
 * else count). Mutates `s`. For tests and simulations; production runs the Lua.
 */
export function windowAdmit(s: WindowState, p: WindowParams, nowUs: number): { allowed: boolean; seen: WindowSeen } {
  const first = bucketOf(p, nowUs) - WINDOW_BUCKETS;
  if (s.lo === null) s.lo = first;
  else if (s.lo < first) {
    for (const [b, c] of s.buckets) {
      if (b < first) {
        s.total -= c;
        s.buckets.delete(b);
      }
    }
    s.lo = first;
  }
  const cur = Math.max(bucketOf(p, nowUs), s.lo);
  const counts: number[] = [];
  for (let b = s.lo; b <= cur; b++) counts.push(s.buckets.get(b) ?? 0);
  const seen = { total: s.total, lo: s.lo, counts };
  if (s.total >= p.limit) return { allowed: false, seen };
  s.buckets.set(cur, (s.buckets.get(cur) ?? 0) + 1);
  s.total++;
  return { allowed: true, seen };
}
