import { MINUTE_US, rollBuckets, tokenResetUs, tokenRetryAfterUs, tokensRefused, windowTokens } from './token-window';

const M = MINUTE_US;
const start = 28_000_000 * M; // a minute boundary

describe('token window', () => {
  it('weights the previous minute by how much of it is still in the last 60 s', () => {
    expect(windowTokens({ prev: 1000, cur: 100 }, start)).toBe(1100);
    expect(windowTokens({ prev: 1000, cur: 100 }, start + M / 4)).toBe(850);
    expect(windowTokens({ prev: 1000, cur: 100 }, start + M / 2)).toBe(600);
  });

  it('rolls stored buckets forward to the current minute', () => {
    const stored = { minute: 28_000_000, cur: 500, prev: 200 };
    expect(rollBuckets(stored, start + 5)).toEqual({ prev: 200, cur: 500 });
    expect(rollBuckets(stored, start + M + 5)).toEqual({ prev: 500, cur: 0 });
    expect(rollBuckets(stored, start + 2 * M)).toEqual({ prev: 0, cur: 0 });
    expect(rollBuckets(null, start)).toEqual({ prev: 0, cur: 0 });
  });

  it('refuses once the window holds the cap, and not before', () => {
    expect(tokensRefused({ prev: 0, cur: 999 }, 1000, start)).toBe(false);
    expect(tokensRefused({ prev: 0, cur: 1000 }, 1000, start)).toBe(true);
    expect(tokensRefused({ prev: 2000, cur: 0 }, 1000, start + M / 2)).toBe(true);
    expect(tokensRefused({ prev: 2000, cur: 0 }, 1000, start + M / 2 + 1)).toBe(false);
  });

  it('says how long until the window drops below the cap', () => {
    // previous minute's 2000 tokens: below 1000 just past the middle of this minute
    const wait = tokenRetryAfterUs({ prev: 2000, cur: 0 }, 1000, start + M / 4);
    expect(wait).toBe(M / 4 + 1);
    expect(tokensRefused({ prev: 2000, cur: 0 }, 1000, start + M / 4 + wait)).toBe(false);
    // this minute's 1500 alone: into the next minute until a third of it has slid out
    const now = start + 10 * 1_000_000;
    const w2 = tokenRetryAfterUs({ prev: 0, cur: 1500 }, 1000, now);
    const later = now + w2;
    expect(tokensRefused(rollBuckets({ minute: 28_000_000, cur: 1500, prev: 0 }, later), 1000, later)).toBe(false);
    expect(tokensRefused(rollBuckets({ minute: 28_000_000, cur: 1500, prev: 0 }, later - 2), 1000, later - 2)).toBe(
      true,
    );
    expect(tokenRetryAfterUs({ prev: 0, cur: 10 }, 1000, now)).toBe(0);
  });

  it('is empty again once both buckets slid out', () => {
    expect(tokenResetUs({ prev: 5, cur: 5 }, start + 7)).toBe(start + 2 * M);
    expect(tokenResetUs({ prev: 5, cur: 0 }, start + 7)).toBe(start + M);
    expect(tokenResetUs({ prev: 0, cur: 0 }, start + 7)).toBe(start + 7);
  });
});
