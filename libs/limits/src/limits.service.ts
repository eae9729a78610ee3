// Rate limits and quotas of the /v1 pipeline, in Redis, shared by every gateway process. One round
// trip per request: the workspace-slot script (every cap of the key and its workspace) and the
// per-IP script go out in one pipeline.
import { Injectable } from '@nestjs/common';
import type { KeyContext } from '@switchyard/auth';
import { AppConfig, RedisService } from '@switchyard/core';
import { GcraParams, gcraParams } from './gcra';
import { checkArgs, LimitPlan, limitPlan, recordArgs, refundArgs } from './limit-plan';
import { gcraStatus, LimitStatus, parseCheckReply, parseIpReply, refusalsOf } from './limit-status';
import { LimitsRedis } from './limits-redis';
import { pickRefusal, rateLimitHeaders, refusalError } from './refusal';
import { dayOf } from './utc-day';

export interface LimitDecision {
  /**
   * X-RateLimit-Limit, -Remaining, -Reset of the rpm with the fewest places left (the key's, or its
   * workspace's); empty when Redis was unreachable (fail open)
   */
  headers: Record<string, string>;
}

@Injectable()
export class LimitsService {
  /** null when the per-IP net is off (IP_RATE_LIMIT=0) */
  private readonly ipNet: GcraParams | null;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly conn: LimitsRedis,
  ) {
    this.ipNet = config.ipRateLimit > 0 ? gcraParams(config.ipRateLimit, config.ipRateWindowSeconds) : null;
  }

  /**
   * Checks and counts one request (an empty clientIp skips the per-IP net rather than lumping unknown
   * callers into one bucket); throws 429 (or 503 when Redis is away and the policy is closed).
   */
  async check(key: KeyContext, clientIp: string): Promise<LimitDecision> {
    const plan = limitPlan(key, this.config.defaultKeyRpm);
    const [keyHash, workspaceHash] = this.scopeKeys(key);
    let replies: unknown[];
    try {
      const p = this.conn.pipeline().syLimitsCheck(keyHash, workspaceHash, ...checkArgs(plan));
      if (this.ipNet && clientIp)
        p.syLimitsIp(this.ipKey(clientIp), String(this.ipNet.intervalUs), String(this.ipNet.periodUs));
      replies = await this.conn.exec(p);
    } catch (e) {
      this.conn.onCheckFailure(e);
      return { headers: {} };
    }
    const check = parseCheckReply(replies[0]);
    const refusals: LimitStatus[] = refusalsOf(check, plan);
    if (this.ipNet && clientIp) {
      const ip = parseIpReply(replies[1]);
      if (ip.refused) {
        refusals.push({ ...gcraStatus('ip', this.ipNet, ip.tatUs, ip.nowUs), refused: true });
        // the key and workspace script consumed its counters; a refused request must not keep them
        if (check.refusedBits === 0) this.refund(keyHash, workspaceHash, plan, dayOf(check.nowUs));
      }
    }
    if (refusals.length > 0) throw refusalError(pickRefusal(refusals));
    // the headers describe the rpm that binds: a workspace cap tighter than the key's is what a client
    // throttling on X-RateLimit-Remaining must see
    const rpm = [gcraStatus('key', plan.key.rpm!, check.key.tatUs, check.nowUs)];
    if (plan.workspace.rpm) rpm.push(gcraStatus('workspace', plan.workspace.rpm, check.workspace.tatUs, check.nowUs));
    return { headers: rateLimitHeaders(rpm.reduce((a, b) => (Number(b.remaining) < Number(a.remaining) ? b : a))) };
  }

  /** Adds a finished request's tokens and spend; never throws (callers may fire and forget). */
  async record(key: KeyContext, usage: { tokens: number; spend: bigint }): Promise<void> {
    try {
      const args = recordArgs(limitPlan(key, this.config.defaultKeyRpm), usage);
      if (!args) return;
      const [keyHash, workspaceHash] = this.scopeKeys(key);
      await this.conn.client.syLimitsRecord(keyHash, workspaceHash, ...args);
    } catch (e) {
      this.conn.warn(e, 'usage not added to token and spend limits');
    }
  }

  /** Requests without a valid key count against the per-IP net only. */
  async checkIpOnly(clientIp: string): Promise<void> {
    if (!this.ipNet || !clientIp) return;
    let reply: unknown;
    try {
      reply = await this.conn.client.syLimitsIp(
        this.ipKey(clientIp),
        String(this.ipNet.intervalUs),
        String(this.ipNet.periodUs),
      );
    } catch (e) {
      this.conn.onCheckFailure(e);
      return;
    }
    const ip = parseIpReply(reply);
    if (ip.refused) throw refusalError(gcraStatus('ip', this.ipNet, ip.tatUs, ip.nowUs));
  }

  /** The key's and the workspace's hashes share the workspace's hash tag: one slot, one script. */
  private scopeKeys(key: KeyContext): [string, string] {
    const tag = `{w:${key.workspaceId}}`;
    return [this.redis.key('lim', tag, 'k', key.keyId), this.redis.key('lim', tag)];
  }

  private ipKey(ip: string): string {
    return this.redis.key('lim', `{ip:${ip}}`);
  }

  private refund(keyHash: string, workspaceHash: string, plan: LimitPlan, day: number): void {
    this.conn.client
      .syLimitsRefund(keyHash, workspaceHash, ...refundArgs(plan, day))
      .catch((e: unknown) => this.conn.warn(e, 'refused request not refunded'));
  }
}
