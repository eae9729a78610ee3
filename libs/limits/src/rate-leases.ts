// Per-process leases of rpm places (a key's and its workspace's rpm, the per-IP net), so that a busy
// key's requests are counted in memory and only one in many goes to Redis. A lease is a number of
// places the check script counted at once in the current bucket of the window (check.lua.ts and
// ip.lua.ts, "places wanted"): Redis counts them as used from the moment they are granted, so across
// every process no window ever holds more than `limit` requests, as without leases. A lease is used
// only within the bucket it was counted in, by Redis's clock, reckoned from when it was asked for (a
// slow reply can only end it early), and the places it did not use go back to that bucket: with the
// key's next check (which asks for the next lease), or, for a key that went quiet, on their own
// (return.lua.ts) within a second, off the request path.
// The cost is fairness between processes: places one process holds unused are refused to the others
// until its bucket ends (1 s for rpm, 10 s for the net). Hence limits below LEASE_MIN_LIMIT never
// lease (they stay exact request by request), a lease is at most 1/64 of its limit, and a lease asks
// for what the last one used, doubling only while they run out: a key sending a request a second
// never holds a place it does not use.
import type { WindowParams } from './sliding-window';

export const LEASE_MIN_LIMIT = 1000;
export const LEASE_MAX_PLACES = 256;
/** An entry (and its size hint) is forgotten after this long without a request. */
export const LEASE_IDLE_MS = 60_000;

/** The most places one lease of a window of this limit may hold. */
export function maxLease(limit: number): number {
  return limit < LEASE_MIN_LIMIT ? 1 : Math.min(LEASE_MAX_PLACES, Math.floor(limit / 64));
}

export interface LeasedWindow {
  scope: 'key' | 'workspace' | 'ip';
  /** the window's Redis hash */
  hash: string;
  params: WindowParams;
  /** requests counted in the window (every process's, this lease's places included) after the last grant */
  countAfter: number;
  /** the oldest bucket the window counted */
  lo: number;
}

export interface Lease {
  windows: LeasedWindow[];
  /** the bucket its places are counted in */
  bucket: number;
  /** Redis's clock (µs) at the last grant */
  nowUs: number;
  /** monotonic ms (the RateLeases clock) from which its places may no longer be used */
  endsAt: number;
  granted: number;
  used: number;
}

export interface Grant {
  windows: LeasedWindow[];
  bucket: number;
  nowUs: number;
  /** when the bucket ends, Redis's clock (µs) */
  bucketEndUs: number;
  /** the RateLeases clock (ms) when the check was sent */
  askedAt: number;
  granted: number;
}

/** Places to give back: `count` in `bucket` of the window `hash`. */
export interface UnusedPlaces {
  hash: string;
  bucket: number;
  count: number;
}

/** An ended lease's unused places, to give back with the next check of its windows. */
export interface HandBack {
  bucket: number;
  count: number;
}

interface Entry {
  lease: Lease | null;
  /** the unused places of the lease that ended last, not given back yet */
  back: (HandBack & { hashes: string[] }) | null;
  /** places the next lease asks for (before the limit's cap) */
  hint: number;
  lastUsedAt: number;
}

/** Places left in the window, for X-RateLimit-Remaining after a request served from a lease. */
export function remainingAfter(l: Lease, w: LeasedWindow): number {
  return Math.max(0, w.params.limit - (w.countAfter - (l.granted - l.used)));
}

export class RateLeases {
  private readonly entries = new Map<string, Entry>();
  private unused: UnusedPlaces[] = [];
  /** leases being asked for: one check at a time asks Redis, the others of the same id wait for it */
  private readonly asking = new Map<string, Promise<void>>();

  /** `now` is a monotonic clock in ms (performance.now in production; tests drive their own). */
  constructor(readonly now: () => number = () => performance.now()) {}

  /** One place of this process's lease `id`, or null (none, used up, or its bucket has ended). */
  take(id: string): Lease | null {
    const e = this.entries.get(id);
    const l = e?.lease;
    if (!e || !l) return null;
    const t = this.now();
    if (t >= l.endsAt) {
      this.expire(e);
      return null;
    }
    if (l.used >= l.granted) {
      // used up within its bucket: the next one asks for twice as many
      e.hint = Math.max(e.hint, l.granted * 2);
      return null;
    }
    l.used++;
    e.lastUsedAt = t;
    return l;
  }

  /** The check asking Redis for a lease of `id` now, if any: wait for it, then take. */
  inFlight(id: string): Promise<void> | undefined {
    return this.asking.get(id);
  }

  /**
   * Marks the leases this check asks Redis for (null entries skipped); call the function returned once
   * the replies are recorded (grant) or failed, so that the checks waiting try take() again.
   */
  ask(ids: Array<string | null>): () => void {
    const ends: Array<() => void> = [];
    for (const id of ids) {
      if (id === null || this.asking.has(id)) continue;
      let end!: () => void;
      this.asking.set(id, new Promise<void>((r) => (end = r)));
      ends.push(() => {
        this.asking.delete(id);
        end();
      });
    }
    return () => ends.forEach((f) => f());
  }

  /** A place taken but not used (another limit refused the request): back to the lease. */
  untake(l: Lease): void {
    if (l.used > 0) l.used--;
  }

  /** The ended lease's unused places, for the check that asks for the next lease to give back. */
  handBack(id: string): HandBack | null {
    const e = this.entries.get(id);
    const back = e?.back ?? null;
    if (e) e.back = null;
    return back;
  }

  /** How many places to ask for, at most `max` (maxLease of the tightest window). */
  want(id: string, max: number): number {
    if (max <= 1) return 1;
    return Math.min(max, Math.max(1, this.entries.get(id)?.hint ?? 1));
  }

  /** Records what the check script granted; the request that asked holds the first place. */
  grant(id: string, g: Grant): Lease {
    const t = this.now();
    let e = this.entries.get(id);
    if (!e) {
      e = { lease: null, back: null, hint: 1, lastUsedAt: t };
      this.entries.set(id, e);
    }
    e.lastUsedAt = t;
    const endsAt = g.askedAt + (g.bucketEndUs - g.nowUs) / 1000;
    const l = e.lease;
    if (l && l.bucket === g.bucket && t < l.endsAt) {
      // asked for while another grant of the same bucket was on its way: one lease of both
      l.granted += g.granted;
      l.used++;
      l.windows = g.windows;
      l.nowUs = g.nowUs;
      l.endsAt = Math.min(l.endsAt, endsAt);
      return l;
    }
    if (l) this.expire(e);
    e.lease = { windows: g.windows, bucket: g.bucket, nowUs: g.nowUs, endsAt, granted: g.granted, used: 1 };
    return e.lease;
  }

  /**
   * Ends the leases whose bucket is over, forgets entries idle for LEASE_IDLE_MS, and hands over the
   * unused places no check has taken back yet. `all` ends every lease (shutdown).
   */
  sweep(all = false): UnusedPlaces[] {
    const t = this.now();
    for (const [id, e] of this.entries) {
      if (e.lease && (all || t >= e.lease.endsAt)) this.expire(e);
      if (e.back) this.giveBackLater(e);
      if (!e.lease && (all || t - e.lastUsedAt >= LEASE_IDLE_MS)) this.entries.delete(id);
    }
    const out = this.unused;
    this.unused = [];
    return out;
  }

  /** Places the running lease of `id` holds unused (tests). */
  unusedOf(id: string): number {
    const l = this.entries.get(id)?.lease;
    return l ? l.granted - l.used : 0;
  }

  /** Leases held (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  private expire(e: Entry): void {
    const l = e.lease!;
    e.lease = null;
    // the next lease starts from what this one used
    e.hint = Math.max(1, l.used);
    const count = l.granted - l.used;
    if (count <= 0) return;
    if (e.back) this.giveBackLater(e);
    e.back = { bucket: l.bucket, count, hashes: l.windows.map((w) => w.hash) };
  }

  private giveBackLater(e: Entry): void {
    const b = e.back!;
    e.back = null;
    for (const hash of b.hashes) this.unused.push({ hash, bucket: b.bucket, count: b.count });
  }
}
