import { gcra, gcraParams } from './gcra';

const S = 1_000_000;
const T0 = 1_700_000_000 * S;

/** Runs n requests at `now`, carrying the TAT like the Lua script does. */
function burst(n: number, tat: number, now: number, limit: number) {
  const p = gcraParams(limit, 60);
  let allowed = 0;
  let last = gcra(tat, now, p);
  for (let i = 0; i < n; i++) {
    last = gcra(tat, now, p);
    if (last.allowed) {
      allowed++;
      tat = last.newTatUs;
    }
  }
  return { allowed, tat, last };
}

describe('gcraParams', () => {
  it('spreads the limit over the window: 60 rpm is one request per second', () => {
    expect(gcraParams(60, 60)).toEqual({ limit: 60, intervalUs: S, periodUs: 60 * S });
  });

  it('rounds the interval up to a whole microsecond so the period is exact', () => {
    const p = gcraParams(7000, 60);
    expect(p.intervalUs).toBe(8572);
    expect(p.periodUs).toBe(7000 * 8572);
    expect(p.periodUs - 60 * S).toBeLessThan(7000);
  });

  it('a cap of 0 lets nothing through', () => {
    const p = gcraParams(0, 60);
    const r = gcra(0, T0, p);
    expect(r.allowed).toBe(false);
    expect(r.retryAfterUs).toBe(60 * S);
  });
});

describe('gcra', () => {
  it('allows a burst of exactly the limit, then refuses the next one', () => {
    for (const limit of [1, 60, 600, 7000]) {
      const { allowed, last } = burst(limit + 1, 0, T0, limit);
      expect(allowed).toBe(limit);
      expect(last.allowed).toBe(false);
    }
  });

  it('counts remaining down and says when the bucket is full again', () => {
    const p = gcraParams(60, 60);
    const first = gcra(0, T0, p);
    expect(first).toMatchObject({ allowed: true, remaining: 59, resetUs: T0 + S });
    const { tat } = burst(60, 0, T0, 60);
    const refused = gcra(tat, T0, p);
    expect(refused).toMatchObject({
      allowed: false,
      remaining: 0,
      resetUs: T0 + 60 * S,
      retryAfterUs: S,
      newTatUs: tat,
    });
  });

  it('gives back one request per emission interval (the window slides)', () => {
    const p = gcraParams(60, 60);
    const { tat } = burst(60, 0, T0, 60);
    expect(gcra(tat, T0 + S - 1, p).allowed).toBe(false);
    const after = gcra(tat, T0 + S, p);
    expect(after.allowed).toBe(true);
    expect(after.remaining).toBe(0);
    expect(gcra(after.newTatUs, T0 + S, p).allowed).toBe(false);
    // half a window later, half the burst is back
    expect(burst(100, tat, T0 + 30 * S, 60).allowed).toBe(30);
  });

  it('an idle bucket is full: an old TAT counts as now', () => {
    const p = gcraParams(60, 60);
    expect(gcra(T0 - 3600 * S, T0, p)).toMatchObject({ allowed: true, remaining: 59 });
  });
});
