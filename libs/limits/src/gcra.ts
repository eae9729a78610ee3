// GCRA (generic cell rate algorithm): a token bucket stored as one timestamp, the "theoretical arrival
// time" (TAT). Burst = limit, one request comes back per emission interval. check.lua.ts and ip.lua.ts
// run the same arithmetic inside Redis; this copy builds headers and is what the unit tests pin down.
// All times are integer microseconds (Redis TIME), so burst counts are exact.

export interface GcraParams {
  limit: number;
  /** emission interval T: one request per T */
  intervalUs: number;
  /** burst capacity P = limit × T: a full bucket lets `limit` requests through at once */
  periodUs: number;
}

export interface GcraResult {
  allowed: boolean;
  /** TAT to store when allowed; the old one when refused */
  newTatUs: number;
  remaining: number;
  /** when the bucket is full again */
  resetUs: number;
  /** when this request would have been allowed (0 when allowed) */
  retryAfterUs: number;
}

export function gcraParams(limit: number, windowSeconds: number): GcraParams {
  const windowUs = windowSeconds * 1_000_000;
  // A cap of 0 (or less) lets nothing through: an interval of the whole window and no burst.
  if (!(limit > 0)) return { limit: 0, intervalUs: windowUs, periodUs: 0 };
  // T rounded up to a whole microsecond keeps P = limit × T an exact integer; the window grows by less
  // than `limit` microseconds, while fractional T would make the limit-th request of a burst flaky.
  const intervalUs = Math.ceil(windowUs / Math.floor(limit));
  return { limit: Math.floor(limit), intervalUs, periodUs: intervalUs * Math.floor(limit) };
}

export function gcra(tatUs: number, nowUs: number, p: GcraParams): GcraResult {
  const base = Math.max(tatUs, nowUs);
  const newTat = base + p.intervalUs;
  const allowAt = newTat - p.periodUs;
  if (allowAt > nowUs) {
    return { allowed: false, newTatUs: tatUs, remaining: 0, resetUs: base, retryAfterUs: allowAt - nowUs };
  }
  return {
    allowed: true,
    newTatUs: newTat,
    remaining: Math.floor((nowUs + p.periodUs - newTat) / p.intervalUs),
    resetUs: newTat,
    retryAfterUs: 0,
  };
}
