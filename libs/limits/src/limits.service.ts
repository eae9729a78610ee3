// Rate limits and quotas of the /v1 pipeline, in Redis, shared by every gateway process. At most one
// round trip per request: the script of the workspace's slot (every cap of the key and its workspace)
// and the per-IP script go out together as two commands, each to its own slot (and node, on a Redis
// Cluster). A busy key with only rpm caps of at least LEASE_MIN_LIMIT is served from this process's
// lease of places (rate-leases.ts): most of its requests are counted in memory, one in many asks Redis
// for the next places. Corrections after requests (their metered usage against what their checks
// reserved) are coalesced per key and minute, off the request path; unused lease places go back
// within LEASE_SWEEP_MS of their bucket's end.
import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import type { KeyContext } from '@switchyard/auth';
import { AppConfig, RedisService } from '@switchyard/core';
import { ipGroup } from './ip-group';
import {
  AdmissionCost,
  Adjustment,
  adjustArgs,
  checkArgs,
  CheckShape,
  LimitPlan,
  limitPlan,
  RPM_WINDOW,
  ScopeCounted,
  ScopePlan,
  scopesCounted,
  wholeTokens,
} from './limit-plan';
import {
  bindingRpm,
  CheckReply,
  IpReply,
  LimitStatus,
  parseCheckReply,
  parseIpReply,
  refusalsOf,
  ScopeState,
  windowLimitStatus,
} from './limit-status';
import { LimitsRedis } from './limits-redis';
import { Grant, LeasedWindow, Lease, maxLease, RateLeases, remainingAfter } from './rate-leases';
import { pickRefusal, rateLimitHeaders, refusalError } from './refusal';
import { bucketOf, WindowParams, windowParams } from './sliding-window';
import { minuteOf } from './token-window';
import { dayOf } from './utc-day';

/** How long corrections of one key wait to be sent together. */
export const ADJUST_COALESCE_MS = 50;
/** How often ended leases give their unused places back. */
export const LEASE_SWEEP_MS = 1000;

/** What an admitted request's check set aside, for record() to replace with the metered usage. */
export interface LimitReservation {
  hashes: [string, string];
  minute: number;
  day: number;
  tokens: number;
  spend: bigint;
  scopes: [ScopeCounted, ScopeCounted];
}

export interface LimitDecision {
  /**
   * X-RateLimit-Limit, -Remaining, -Reset of the rpm with the fewest places left (the key's, or its
   * workspace's); empty when Redis was unreachable (fail open) or the request was already counted
   */
  headers: Record<string, string>;
  /** null when nothing was reserved (no tpm or spend cap, not an admission, or fail open) */
  reservation: LimitReservation | null;
}

export interface CheckOptions {
  /** false when the request was already counted against rpm and the per-IP net (by the guard) */
  countRequest?: boolean;
  /** the guard already counted this request against the per-IP net (a key not in the cache) */
  ipCounted?: boolean;
  /** an admitted model request: also the daily request caps, and its worst case reserved against tpm and spend */
  admission?: AdmissionCost;
  /** tests only: the scripts' clock (µs) instead of the Redis server's */
  nowUs?: number;
}

/** What the limits derive from one key context (LimitsService.limitsOf). */
interface KeyLimits {
  plan: LimitPlan;
  /** only rpm caps on the key and its workspace: what a lease can serve */
  onlyRpm: boolean;
  hashes: [string, string];
  /** the key's rpm lease (its limits are part of it: a changed limit starts a new lease) */
  scopeId: string;
  /** the most places its lease may hold; 1: every request goes to Redis */
  leaseMax: number;
}

/** A check's parts, for the round trip: what leases served it already, what to ask for. */
interface InRedis {
  plan: LimitPlan;
  shape: CheckShape;
  hashes: [string, string];
  /** the per-IP net's hash, null when not checked */
  ip: string | null;
  /** the key's rpm lease and the most places it may hold (1: the key does not lease) */
  scopeId: string;
  scopeMax: number;
  /** the per-IP net leases */
  ipLeasing: boolean;
  /** places already taken from leases (the other part goes to Redis) */
  scopeLease: Lease | null;
  ipLease: Lease | null;
}

interface PendingAdjustment {
  hashes: [string, string];
  x: Adjustment;
  done: Promise<void>;
  resolve: () => void;
}

@Injectable()
export class LimitsService implements BeforeApplicationShutdown {
  /** null when the per-IP net is off (IP_RATE_LIMIT=0) */
  private readonly ipNet: WindowParams | null;
  /** the most places a lease of the per-IP net holds (1: the net does not lease) */
  private readonly ipMax: number;
  private readonly pending = new Map<string, PendingAdjustment>();
  private flushTimer?: NodeJS.Timeout;
  readonly leases = new RateLeases();
  private readonly byKey = new WeakMap<KeyContext, KeyLimits>();
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly conn: LimitsRedis,
  ) {
    this.ipNet = config.ipRateLimit > 0 ? windowParams(config.ipRateLimit, config.ipRateWindowSeconds) : null;
    this.ipMax = this.ipNet ? maxLease(this.ipNet.limit) : 1;
    this.sweepTimer = setInterval(() => void this.returnUnused(), LEASE_SWEEP_MS).unref();
  }

  /**
   * Checks and counts one request (an empty or unparsable clientIp skips the per-IP net rather than
   * lumping unknown callers into one bucket); throws 429 (or 503 when Redis is away and the policy is closed).
   */
  async check(key: KeyContext, clientIp: string, opts: CheckOptions = {}): Promise<LimitDecision> {
    const { plan, onlyRpm, hashes, scopeId, leaseMax } = this.limitsOf(key);
    const shape: CheckShape = { rpm: opts.countRequest !== false, admission: opts.admission, nowUs: opts.nowUs };
    const ip = shape.rpm && !opts.ipCounted ? this.ipKey(clientIp) : null;
    // already counted, and no cap that an admission reserves against: nothing to check
    if (!shape.rpm && onlyRpm) return { headers: {}, reservation: null };
    // a test clock (nowUs) keeps every request in Redis
    const scopeMax = shape.rpm && opts.nowUs === undefined ? leaseMax : 1;
    const leasing = scopeMax > 1;
    const ipLeasing = !!ip && opts.nowUs === undefined && this.ipMax > 1;
    // served from this process's leases: no round trip; while another check of this process asks Redis
    // for the next places, wait for its answer instead of asking too
    let scopeLease: Lease | null = null;
    let ipLease: Lease | null = null;
    for (;;) {
      if (leasing && !scopeLease) scopeLease = this.leases.take(scopeId);
      if (ipLeasing && !ipLease) ipLease = this.leases.take(ip!);
      const wait =
        (leasing && !scopeLease && this.leases.inFlight(scopeId)) ||
        (ipLeasing && !ipLease && this.leases.inFlight(ip!));
      if (!wait) break;
      await wait;
    }
    if (scopeLease && (!ip || ipLease)) return { headers: this.leaseHeaders(scopeLease), reservation: null };
    const asked = this.leases.ask([leasing && !scopeLease ? scopeId : null, ipLeasing && !ipLease ? ip : null]);
    try {
      return await this.checkInRedis({ plan, shape, hashes, ip, scopeId, scopeMax, ipLeasing, scopeLease, ipLease });
    } finally {
      asked();
    }
  }

  /** The parts of a check no lease served, in one round trip; a lease granted with them is recorded. */
  private async checkInRedis(c: InRedis): Promise<LimitDecision> {
    const { plan, shape, hashes, ip, scopeId, scopeMax, ipLeasing, ipLease } = c;
    const leasing = scopeMax > 1;
    let { scopeLease } = c;
    const askedAt = this.leases.now();
    const [checked, ipChecked] = await this.conn.checkWithIp(
      scopeLease
        ? null
        : [hashes[0], hashes[1], ...checkArgs(plan, shape), ...this.leaseArgs(leasing ? scopeId : null, scopeMax)],
      ip && !ipLease ? [ip, ...this.ipArgs(shape.nowUs), ...this.leaseArgs(ipLeasing ? ip : null, this.ipMax)] : null,
    );
    let reply: CheckReply | null = null;
    let refusals: LimitStatus[] = [];
    if (!scopeLease) {
      try {
        if (checked.status === 'rejected') throw checked.reason;
        reply = parseCheckReply(checked.value);
      } catch (e) {
        if (ipLease) this.leases.untake(ipLease);
        this.conn.onCheckFailure(e);
        return { headers: {}, reservation: null };
      }
      refusals = refusalsOf(reply, plan);
      if (leasing && !refusals.length)
        scopeLease = this.leases.grant(scopeId, this.scopeGrant(hashes, plan, reply, askedAt));
    }
    const scopes = scopesCounted(plan, shape);
    const tokens = shape.admission ? wholeTokens(shape.admission.tokens) : 0;
    const spend = shape.admission && shape.admission.spend > 0n ? shape.admission.spend : 0n;
    // what this check consumed, to give back when the per-IP net (another command) refuses the request
    const giveBack = (): void => {
      if (scopeLease) return this.leases.untake(scopeLease);
      this.giveBack(hashes, {
        minute: minuteOf(reply!.nowUs),
        day: dayOf(reply!.nowUs),
        tokensDelta: -tokens,
        spendDelta: -spend,
        rpmBucket: bucketOf(RPM_WINDOW, reply!.nowUs),
        scopes,
        giveBackRequest: true,
      });
    };
    if (ip && !ipLease) {
      let net: IpReply | null = null;
      try {
        if (ipChecked.status === 'rejected') throw ipChecked.reason;
        net = parseIpReply(ipChecked.value);
      } catch (e) {
        try {
          this.conn.onCheckFailure(e);
        } catch (closed) {
          if (!refusals.length) giveBack();
          throw closed;
        }
      }
      if (net?.refused) {
        if (!refusals.length) giveBack();
        refusals.push(windowLimitStatus('ip', this.ipNet!, net.window, net.nowUs, true));
      } else if (net && ipLeasing) {
        this.leases.grant(ip, this.ipGrant(ip, net, askedAt));
      }
    }
    if (refusals.length > 0) throw refusalError(pickRefusal(refusals));
    if (scopeLease) return { headers: this.leaseHeaders(scopeLease), reservation: null };
    const reserved = scopes.some((s) => s.tokens || s.spend);
    const reservation = reserved
      ? { hashes, minute: minuteOf(reply!.nowUs), day: dayOf(reply!.nowUs), tokens, spend, scopes }
      : null;
    const rpm = shape.rpm ? bindingRpm(reply!, plan) : null;
    return { headers: rpm ? rateLimitHeaders(rpm) : {}, reservation };
  }

  /**
   * Replaces what a check reserved with a finished request's metered tokens and spend (zero usage gives
   * the reservation back). Without a reservation (the check failed open), adds the usage where a cap
   * uses it. Sent within ADJUST_COALESCE_MS, together with the key's other corrections; never throws.
   */
  record(
    key: KeyContext,
    usage: { tokens: number; spend: bigint },
    reservation: LimitReservation | null = null,
  ): Promise<void> {
    const tokens = wholeTokens(usage.tokens);
    const spend = usage.spend > 0n ? usage.spend : 0n;
    if (reservation) {
      return this.coalesce(reservation.hashes, {
        minute: reservation.minute,
        day: reservation.day,
        tokensDelta: tokens - reservation.tokens,
        spendDelta: spend - reservation.spend,
        rpmBucket: null,
        scopes: reservation.scopes,
        giveBackRequest: false,
      });
    }
    const k = this.limitsOf(key);
    const scopes = scopesCounted(k.plan, { rpm: false, admission: { tokens: 0, spend: 0n } });
    // the common case, a key and workspace with no tpm or spend cap: nothing to add
    if (!scopes.some((s) => s.tokens || s.spend)) return Promise.resolve();
    return this.coalesce(k.hashes, {
      minute: null,
      day: null,
      tokensDelta: tokens,
      spendDelta: spend,
      rpmBucket: null,
      scopes,
      giveBackRequest: false,
    });
  }

  /**
   * Gives back at once what a check reserved for a request refused after it (402, a wallet outage).
   * Not coalesced: sent on the limits connection before any later check of this process, so a client
   * retrying at once is not refused for tokens it never used.
   */
  release(reservation: LimitReservation | null): void {
    if (!reservation) return;
    this.giveBack(reservation.hashes, {
      minute: reservation.minute,
      day: reservation.day,
      tokensDelta: -reservation.tokens,
      spendDelta: -reservation.spend,
      rpmBucket: null,
      scopes: reservation.scopes,
      giveBackRequest: false,
    });
  }

  /** Requests without a valid key (and keys not in the cache, before the database) count against the per-IP net only. */
  async checkIpOnly(clientIp: string, nowUs?: number): Promise<void> {
    const ip = this.ipKey(clientIp);
    if (!ip) return;
    const leasing = nowUs === undefined && this.ipMax > 1;
    for (;;) {
      if (leasing && this.leases.take(ip)) return;
      const wait = leasing && this.leases.inFlight(ip);
      if (!wait) break;
      await wait;
    }
    const asked = this.leases.ask([leasing ? ip : null]);
    const askedAt = this.leases.now();
    let r: IpReply;
    try {
      const args = [...this.ipArgs(nowUs), ...this.leaseArgs(leasing ? ip : null, this.ipMax)];
      r = parseIpReply(await this.conn.client.syLimitsIp(ip, ...args));
      if (!r.refused && leasing) this.leases.grant(ip, this.ipGrant(ip, r, askedAt));
    } catch (e) {
      this.conn.onCheckFailure(e);
      return;
    } finally {
      asked();
    }
    if (r.refused) throw refusalError(windowLimitStatus('ip', this.ipNet!, r.window, r.nowUs, true));
  }

  /** Sends the corrections still waiting (graceful stop; tests). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    await Promise.all(
      batch.map(async (b) => {
        try {
          const args = adjustArgs(b.x);
          if (args) await this.conn.client.syLimitsAdjust(b.hashes[0], b.hashes[1], ...args);
        } catch (e) {
          this.conn.warn(e, 'usage not added to token and spend limits');
        } finally {
          b.resolve();
        }
      }),
    );
  }

  /** Before the Redis connection closes: the last requests' corrections are sent, unused lease places given back. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    await Promise.all([this.flush(), this.returnUnused(true)]);
  }

  /** Gives back the places of ended leases (of every lease: `all`) they did not use. Never throws. */
  async returnUnused(all = false): Promise<void> {
    const places = this.leases.sweep(all);
    if (!places.length) return;
    await Promise.all(
      places.map((p) =>
        this.conn.client
          .syLimitsReturn(p.hash, String(p.bucket), String(p.count))
          .catch((e: unknown) => this.conn.warn(e, 'unused rate limit places not given back')),
      ),
    );
  }

  /** X-RateLimit-* of a request served from a lease: the window with the fewest places left. */
  private leaseHeaders(l: Lease): Record<string, string> {
    let binding = l.windows[0];
    for (const w of l.windows) if (remainingAfter(l, w) < remainingAfter(l, binding)) binding = w;
    const total = binding.params.limit - remainingAfter(l, binding) - 1;
    return rateLimitHeaders(
      windowLimitStatus(binding.scope, binding.params, { total, lo: binding.lo, counts: [] }, l.nowUs, false),
    );
  }

  private scopeGrant(hashes: [string, string], plan: LimitPlan, r: CheckReply, askedAt: number): Grant {
    const windows: LeasedWindow[] = [];
    const add = (scope: 'key' | 'workspace', hash: string, p: WindowParams | null, s: ScopeState) => {
      if (p) windows.push({ scope, hash, params: p, countAfter: s.window.total + r.granted, lo: s.window.lo });
    };
    add('key', hashes[0], plan.key.rpm, r.key);
    add('workspace', hashes[1], plan.workspace.rpm, r.workspace);
    return grantOf(windows, RPM_WINDOW, r.nowUs, Math.max(...windows.map((w) => w.lo)), r.granted, askedAt);
  }

  private ipGrant(ip: string, r: IpReply, askedAt: number): Grant {
    const p = this.ipNet!;
    const windows: LeasedWindow[] = [
      { scope: 'ip', hash: ip, params: p, countAfter: r.window.total + r.granted, lo: r.window.lo },
    ];
    return grantOf(windows, p, r.nowUs, r.window.lo, r.granted, askedAt);
  }

  /** One signed delta per key pair, minute, day and set of counters: many requests, one command. */
  private coalesce(hashes: [string, string], x: Adjustment): Promise<void> {
    if (!adjustArgs(x)) return Promise.resolve();
    const counters = x.scopes.map((s) => `${+s.tokens}${+s.spend}${s.ttlMs}`).join(',');
    const id = `${hashes.join('|')}|${x.minute}|${x.day}|${counters}`;
    const waiting = this.pending.get(id);
    if (waiting) {
      waiting.x.tokensDelta += x.tokensDelta;
      waiting.x.spendDelta += x.spendDelta;
      return waiting.done;
    }
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    this.pending.set(id, { hashes, x: { ...x }, done, resolve });
    this.flushTimer ??= setTimeout(() => void this.flush(), ADJUST_COALESCE_MS);
    return done;
  }

  private giveBack(hashes: [string, string], x: Adjustment): void {
    const args = adjustArgs(x);
    if (!args) return;
    this.conn.client
      .syLimitsAdjust(hashes[0], hashes[1], ...args)
      .catch((e: unknown) => this.conn.warn(e, 'refused request not given back'));
  }

  /**
   * What the limits derive from a key's context, once per context (the key cache builds a new one when
   * the key or its limits change). The key's and the workspace's hashes share the workspace's hash tag:
   * one slot, one script.
   */
  private limitsOf(key: KeyContext): KeyLimits {
    let k = this.byKey.get(key);
    if (k) return k;
    const plan = limitPlan(key, this.config.defaultKeyRpm);
    const tag = `{w:${key.workspaceId}}`;
    const hashes: [string, string] = [this.redis.key('lim', tag, 'k', key.keyId), this.redis.key('lim', tag)];
    const onlyRpm = rpmOnly(plan);
    // only rpm caps, none under LEASE_MIN_LIMIT: a lease serves the key
    const leaseMax = onlyRpm
      ? Math.min(maxLease(plan.key.rpm!.limit), maxLease(plan.workspace.rpm?.limit ?? Infinity))
      : 1;
    const scopeId = `${hashes[0]}|${plan.key.rpm?.limit ?? ''}|${plan.workspace.rpm?.limit ?? ''}`;
    k = { plan, onlyRpm, hashes, scopeId, leaseMax };
    this.byKey.set(key, k);
    return k;
  }

  private ipKey(clientIp: string): string | null {
    const group = this.ipNet ? ipGroup(clientIp) : '';
    return group ? this.redis.key('lim', `{ip:${group}}`) : null;
  }

  private ipArgs(nowUs: number | undefined): string[] {
    const p = this.ipNet!;
    // 61 buckets are counted; a second of slack
    const ttlMs = Math.ceil((p.bucketUs * 61) / 1000) + 1000;
    return [nowUs === undefined ? '' : String(nowUs), String(p.bucketUs), String(p.limit), String(ttlMs)];
  }

  /** The scripts' last arguments: places wanted, then the ended lease's unused places to give back. */
  private leaseArgs(id: string | null, max: number): string[] {
    if (id === null) return ['1'];
    const back = this.leases.handBack(id);
    const want = String(this.leases.want(id, max));
    return back ? [want, String(back.bucket), String(back.count)] : [want];
  }
}

/** Only rpm caps on the key and its workspace (no token, daily or spend cap): what a lease can serve. */
function rpmOnly(plan: LimitPlan): boolean {
  const none = (s: ScopePlan) => s.tpm === null && s.dailyRequests === null && s.dailySpend === null;
  return plan.key.rpm !== null && none(plan.key) && none(plan.workspace);
}

/**
 * The places the script counted in now's bucket, usable until it ends. A clock that stepped back below
 * a window's oldest bucket made the script count at that bucket instead: then the lease is the request
 * alone, and the other places stay counted until they leave the window (never given back to a bucket
 * they were not counted in).
 */
function grantOf(
  windows: LeasedWindow[],
  p: WindowParams,
  nowUs: number,
  lo: number,
  granted: number,
  askedAt: number,
): Grant {
  const b = bucketOf(p, nowUs);
  return { windows, bucket: b, nowUs, bucketEndUs: (b + 1) * p.bucketUs, askedAt, granted: lo > b ? 1 : granted };
}
