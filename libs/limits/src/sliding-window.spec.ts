import {
  emptyWindow,
  WindowParams,
  windowAdmit,
  windowParams,
  windowStatus,
  WindowState,
  WINDOW_BUCKETS,
} from './sliding-window';

const S = 1_000_000;
// a bucket boundary, like most real times are not: tests add offsets
const T0 = 1_700_000_040 * S;

function run(s: WindowState, p: WindowParams, times: number[]): boolean[] {
  return times.map((t) => windowAdmit(s, p, t).allowed);
}

/** Most allowed requests in any window of `windowUs` (the worst window ends at an allowed request; times ascend). */
function worstWindow(allowedAt: number[], windowUs: number): number {
  let worst = 0;
  let start = 0;
  for (let end = 0; end < allowedAt.length; end++) {
    while (allowedAt[start] <= allowedAt[end] - windowUs) start++;
    worst = Math.max(worst, end - start + 1);
  }
  return worst;
}

describe('windowParams', () => {
  it('cuts the window in 60 buckets of whole microseconds', () => {
    expect(windowParams(60, 60)).toEqual({ limit: 60, bucketUs: S });
    expect(windowParams(5000, 600)).toEqual({ limit: 5000, bucketUs: 10 * S });
    expect(windowParams(10, 7).bucketUs * WINDOW_BUCKETS).toBeGreaterThanOrEqual(7 * S);
    expect(windowParams(-3, 60).limit).toBe(0);
  });
});

describe('sliding window (the rules window.lua.ts runs)', () => {
  const p = windowParams(60, 60);

  it('refuses the 61st request in a minute: 60 spread over 50 s, then a burst', () => {
    const s = emptyWindow();
    const spread = Array.from({ length: 60 }, (_, i) => T0 + Math.round((i * 50 * S) / 59));
    expect(run(s, p, spread).every(Boolean)).toBe(true);
    const burst = Array.from({ length: 10 }, (_, i) => T0 + 55 * S + i);
    expect(run(s, p, burst).some(Boolean)).toBe(false);
  });

  it('a burst of 60, then one a second: nothing more until the burst leaves the window (the GCRA let 119 through)', () => {
    const s = emptyWindow();
    const allowedAt: number[] = [];
    const times = [
      ...Array(60).fill(T0 + 300_000),
      ...Array.from({ length: 59 }, (_, i) => T0 + 300_000 + (i + 1) * S),
    ];
    times.forEach((t) => windowAdmit(s, p, t).allowed && allowedAt.push(t));
    expect(allowedAt).toHaveLength(60);
    // 60 s and at most one bucket after the burst, its places come back together
    expect(windowAdmit(s, p, T0 + 60 * S + 300_000).allowed).toBe(false);
    expect(windowAdmit(s, p, T0 + 61 * S).allowed).toBe(true);
  });

  it('slides: places come back as the buckets holding old requests leave, not all at a minute boundary', () => {
    const s = emptyWindow();
    run(s, p, Array(30).fill(T0 + 100));
    run(s, p, Array(30).fill(T0 + 30 * S + 100));
    expect(windowAdmit(s, p, T0 + 45 * S).allowed).toBe(false);
    // the first 30 leave at 61 s, the next 30 at 91 s
    const at61 = run(s, p, Array(31).fill(T0 + 61 * S));
    expect(at61.filter(Boolean)).toHaveLength(30);
    expect(windowAdmit(s, p, T0 + 90 * S).allowed).toBe(false);
    expect(run(s, p, Array(31).fill(T0 + 91 * S)).filter(Boolean)).toHaveLength(30);
  });

  it('never lets more than the limit into any window, and refuses at most one bucket early (random traffic)', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [limit, windowS] of [
      [60, 60],
      [7, 60],
      [5000, 600],
      [20, 6],
    ]) {
      const q = windowParams(limit, windowS);
      const windowUs = windowS * S;
      const s = emptyWindow();
      const allowedAt: number[] = [];
      let since = 0; // first allowed request inside the longer window of the refusal check
      let t = T0 + Math.floor(rnd() * windowUs);
      for (let i = 0; i < limit * 8; i++) {
        // bursts and lulls: mostly dense, sometimes a long gap
        t += Math.floor(rnd() < 0.05 ? rnd() * windowUs : (rnd() * windowUs) / limit);
        const r = windowAdmit(s, q, t);
        if (r.allowed) allowedAt.push(t);
        else {
          // an exact log one bucket longer than the window would refuse it too
          while (allowedAt[since] <= t - windowUs - q.bucketUs) since++;
          expect(allowedAt.length - since).toBeGreaterThanOrEqual(limit);
        }
      }
      expect(worstWindow(allowedAt, windowUs)).toBeLessThanOrEqual(limit);
      expect(allowedAt.length).toBeGreaterThan(limit);
    }
  });
});

describe('windowStatus (headers)', () => {
  const p = windowParams(60, 60);

  it('allowed: remaining after this request, full again when its bucket leaves the window', () => {
    const st = windowStatus(p, T0 + 250_000, { total: 10, lo: T0 / S - 60, counts: [] }, false);
    expect(st).toEqual({ remaining: 49, resetUs: T0 + 61 * S, retryAfterUs: 0 });
  });

  it('refused: Retry-After is when enough old buckets left, Reset when the newest did', () => {
    const s = emptyWindow();
    run(s, p, Array(20).fill(T0 + 5 * S));
    run(s, p, Array(40).fill(T0 + 30 * S));
    const now = T0 + 40 * S + 500_000;
    const r = windowAdmit(s, p, now);
    expect(r.allowed).toBe(false);
    const st = windowStatus(p, now, r.seen, true);
    expect(st.remaining).toBe(0);
    expect(st.retryAfterUs).toBe(T0 + 66 * S - now);
    expect(st.resetUs).toBe(T0 + 91 * S);
    // the script agrees: refused just before, allowed at the retry time
    expect(windowAdmit(s, p, now + st.retryAfterUs - 1).allowed).toBe(false);
    expect(windowAdmit(s, p, now + st.retryAfterUs).allowed).toBe(true);
  });

  it('a limit lowered below what the window holds waits for enough buckets to leave', () => {
    const big = windowParams(100, 60);
    const s = emptyWindow();
    for (let i = 0; i < 10; i++) run(s, big, Array(10).fill(T0 + i * S));
    const now = T0 + 20 * S;
    const small = windowParams(50, 60);
    const r = windowAdmit(s, small, now);
    expect(r.allowed).toBe(false);
    // 51 must leave: buckets 0..5 hold 60
    expect(now + windowStatus(small, now, r.seen, true).retryAfterUs).toBe(T0 + 66 * S);
  });

  it('a cap of 0 refuses and says to look again a window later', () => {
    const zero = windowParams(0, 60);
    const r = windowAdmit(emptyWindow(), zero, T0);
    expect(r.allowed).toBe(false);
    expect(windowStatus(zero, T0, r.seen, true).retryAfterUs).toBe(60 * S);
  });
});
