// Rate limits and quotas of the /v1 pipeline, in Redis, shared by every gateway process. One round
// trip per request: the script of the workspace's slot (every cap of the key and its workspace) and
// the per-IP script go out together as two commands, each to its own slot (and node, on a Redis
// Cluster), so the request waits for one round trip. Corrections after requests (their metered usage
// against what their checks reserved) are coalesced per key and minute, off the request path.
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
  limitPlan,
  RPM_WINDOW,
  ScopeCounted,
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
  windowLimitStatus,
} from './limit-status';
import { LimitsRedis } from './limits-redis';
import { pickRefusal, rateLimitHeaders, refusalError } from './refusal';
import { bucketOf, WindowParams, windowParams } from './sliding-window';
import { minuteOf } from './token-window';
import { dayOf } from './utc-day';

/** How long corrections of one key wait to be sent together. */
export const ADJUST_COALESCE_MS = 50;

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
  private readonly pending = new Map<string, PendingAdjustment>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly conn: LimitsRedis,
  ) {
    this.ipNet = config.ipRateLimit > 0 ? windowParams(config.ipRateLimit, config.ipRateWindowSeconds) : null;
  }

  /**
   * Checks and counts one request (an empty or unparsable clientIp skips the per-IP net rather than
   * lumping unknown callers into one bucket); throws 429 (or 503 when Redis is away and the policy is closed).
   */
  async check(key: KeyContext, clientIp: string, opts: CheckOptions = {}): Promise<LimitDecision> {
    const plan = limitPlan(key, this.config.defaultKeyRpm);
    const shape: CheckShape = { rpm: opts.countRequest !== false, admission: opts.admission, nowUs: opts.nowUs };
    const hashes = this.scopeKeys(key);
    const ip = shape.rpm && !opts.ipCounted ? this.ipKey(clientIp) : null;
    const [checked, ipChecked] = await this.conn.checkWithIp(
      [hashes[0], hashes[1], ...checkArgs(plan, shape)],
      ip ? [ip, ...this.ipArgs(opts.nowUs)] : null,
    );
    let reply: CheckReply;
    try {
      if (checked.status === 'rejected') throw checked.reason;
      reply = parseCheckReply(checked.value);
    } catch (e) {
      this.conn.onCheckFailure(e);
      return { headers: {}, reservation: null };
    }
    const refusals: LimitStatus[] = refusalsOf(reply, plan);
    const scopes = scopesCounted(plan, shape);
    const tokens = opts.admission ? wholeTokens(opts.admission.tokens) : 0;
    const spend = opts.admission && opts.admission.spend > 0n ? opts.admission.spend : 0n;
    // what this check consumed, to give back when the per-IP net (another command) refuses the request
    const giveBack = (): void =>
      this.giveBack(hashes, {
        minute: minuteOf(reply.nowUs),
        day: dayOf(reply.nowUs),
        tokensDelta: -tokens,
        spendDelta: -spend,
        rpmBucket: bucketOf(RPM_WINDOW, reply.nowUs),
        scopes,
        giveBackRequest: true,
      });
    if (ip) {
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
      }
    }
    if (refusals.length > 0) throw refusalError(pickRefusal(refusals));
    const reserved = scopes.some((s) => s.tokens || s.spend);
    const reservation = reserved
      ? { hashes, minute: minuteOf(reply.nowUs), day: dayOf(reply.nowUs), tokens, spend, scopes }
      : null;
    const rpm = shape.rpm ? bindingRpm(reply, plan) : null;
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
    const scopes = scopesCounted(limitPlan(key, this.config.defaultKeyRpm), {
      rpm: false,
      admission: { tokens: 0, spend: 0n },
    });
    // the common case, a key and workspace with no tpm or spend cap: nothing to add, no keys to build
    if (!scopes.some((s) => s.tokens || s.spend)) return Promise.resolve();
    return this.coalesce(this.scopeKeys(key), {
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
    let r: IpReply;
    try {
      r = parseIpReply(await this.conn.client.syLimitsIp(ip, ...this.ipArgs(nowUs)));
    } catch (e) {
      this.conn.onCheckFailure(e);
      return;
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

  /** Before the Redis connection closes: the last requests' corrections are sent. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
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

  /** The key's and the workspace's hashes share the workspace's hash tag: one slot, one script. */
  private scopeKeys(key: KeyContext): [string, string] {
    const tag = `{w:${key.workspaceId}}`;
    return [this.redis.key('lim', tag, 'k', key.keyId), this.redis.key('lim', tag)];
  }

  private ipKey(clientIp: string): string | null {
    const group = this.ipNet ? ipGroup(clientIp) : '';
    return group ? this.redis.key('lim', `{ip:${group}}`) : null;
  }

  private ipArgs(nowUs?: number): string[] {
    const p = this.ipNet!;
    // 61 buckets are counted; a second of slack
    const ttlMs = Math.ceil((p.bucketUs * 61) / 1000) + 1000;
    return [nowUs === undefined ? '' : String(nowUs), String(p.bucketUs), String(p.limit), String(ttlMs)];
  }
}
