import { Grant, LeasedWindow, LEASE_IDLE_MS, maxLease, RateLeases, remainingAfter } from './rate-leases';
import { windowParams } from './sliding-window';

const S = 1_000_000;
const P = windowParams(100_000, 60);

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A grant of `granted` places at Redis time nowUs (bucket = its second), asked for at askedAt. */
function grant(granted: number, askedAt: number, nowUs = 500 * S + 200_000, countBefore = 10): Grant {
  const windows: LeasedWindow[] = [
    { scope: 'key', hash: 'k', params: P, countAfter: countBefore + granted, lo: 440 },
    { scope: 'workspace', hash: 'w', params: windowParams(50_000, 60), countAfter: countBefore + granted, lo: 440 },
  ];
  const bucket = Math.floor(nowUs / S);
  return { windows, bucket, nowUs, bucketEndUs: (bucket + 1) * S, askedAt, granted };
}

describe('maxLease', () => {
  it('leaves limits under 1000 exact, and holds at most 1/64 of a limit, 256 at most', () => {
    expect(maxLease(999)).toBe(1);
    expect(maxLease(1000)).toBe(15);
    expect(maxLease(6400)).toBe(100);
    expect(maxLease(1_000_000)).toBe(256);
    expect(maxLease(Infinity)).toBe(256);
  });
});

describe('RateLeases', () => {
  it('serves the granted places in memory, the first to the request that asked', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    expect(l.take('a')).toBeNull();
    expect(l.want('a', 256)).toBe(1);
    const lease = l.grant('a', grant(3, c.now()));
    expect(lease.used).toBe(1);
    expect(l.take('a')).toBe(lease);
    expect(l.take('a')).toBe(lease);
    expect(l.take('a')).toBeNull();
    expect(lease.used).toBe(3);
  });

  it('asks for twice as many when a lease runs out within its bucket, never more than the cap', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    l.grant('a', grant(4, c.now()));
    for (let i = 0; i < 3; i++) expect(l.take('a')).not.toBeNull();
    expect(l.take('a')).toBeNull();
    expect(l.want('a', 256)).toBe(8);
    expect(l.want('a', 5)).toBe(5);
    // a limit too small to lease asks for one
    expect(l.want('a', 1)).toBe(1);
  });

  it('ends a lease when its bucket ends by Redis time, reckoned from when it was asked for', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    const askedAt = c.now();
    c.advance(5); // the reply took 5 ms
    // Redis answered 200 ms into its second: 800 ms of the bucket were left when it was asked for
    l.grant('a', grant(10, askedAt));
    c.advance(794);
    expect(l.take('a')).not.toBeNull();
    c.advance(1); // 800 ms after asking: never used past the bucket, however late the reply came
    expect(l.take('a')).toBeNull();
  });

  it('gives back the places an ended lease did not use, in the bucket they were counted in, per window', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    l.grant('a', grant(10, c.now()));
    l.take('a');
    expect(l.sweep()).toEqual([]); // not ended yet
    c.advance(800);
    expect(l.sweep()).toEqual([
      { hash: 'k', bucket: 500, count: 8 },
      { hash: 'w', bucket: 500, count: 8 },
    ]);
    expect(l.sweep()).toEqual([]);
    // the next lease asks for what this one used
    expect(l.want('a', 256)).toBe(2);
  });

  it("hands an ended lease's unused places to the check that asks for the next lease, once", () => {
    const c = clock();
    const l = new RateLeases(c.now);
    l.grant('a', grant(10, c.now()));
    c.advance(800);
    expect(l.take('a')).toBeNull(); // ended
    expect(l.handBack('a')).toEqual({ bucket: 500, count: 9, hashes: ['k', 'w'] });
    expect(l.handBack('a')).toBeNull();
    // given back with that check: the sweep has nothing left to send
    expect(l.sweep()).toEqual([]);
  });

  it('sweep(true) ends every lease (shutdown), and idle entries are forgotten', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    l.grant('a', grant(5, c.now()));
    expect(l.sweep(true)).toHaveLength(2);
    expect(l.size).toBe(0);
    l.grant('b', grant(1, c.now()));
    c.advance(1000);
    l.sweep();
    expect(l.size).toBe(1);
    c.advance(LEASE_IDLE_MS);
    l.sweep();
    expect(l.size).toBe(0);
  });

  it('merges a grant that arrives while the lease of the same bucket is still running', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    const first = l.grant('a', grant(2, c.now()));
    l.take('a');
    // another request found it used up and asked for 4 more; Redis now counts 10 + 2 + 4
    const merged = l.grant('a', grant(4, c.now(), 500 * S + 300_000, 12));
    expect(merged).toBe(first);
    expect(merged.granted).toBe(6);
    expect(merged.used).toBe(3);
    // what remains for the headers: 100,000 - (16 counted - 3 unused)
    expect(remainingAfter(merged, merged.windows[0])).toBe(100_000 - 13);
  });

  it('untake returns a place the request did not use (another limit refused it)', () => {
    const c = clock();
    const l = new RateLeases(c.now);
    const lease = l.grant('a', grant(2, c.now()));
    l.untake(lease);
    expect(lease.used).toBe(0);
    l.untake(lease);
    expect(lease.used).toBe(0);
    expect(l.take('a')).toBe(lease);
  });

  it("reports what remains of the window as if every process's unused places were free", () => {
    const c = clock();
    const l = new RateLeases(c.now);
    // 10 counted before, 5 granted: after the first request, 100,000 - 11 remain
    const lease = l.grant('a', grant(5, c.now()));
    expect(remainingAfter(lease, lease.windows[0])).toBe(100_000 - 11);
    l.take('a');
    expect(remainingAfter(lease, lease.windows[0])).toBe(100_000 - 12);
  });
});
