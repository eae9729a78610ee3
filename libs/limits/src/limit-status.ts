// What the Lua scripts answered, turned into one status per cap: its limit, what remains, when it is
// full again and, when refused, when to retry. The scripts decide allow or refuse; these functions
// apply the same rules to the state they read, to describe the outcome in headers.
import { formatAmount } from '@switchyard/core';
import { GcraParams, gcra } from './gcra';
import { ScopePlan, LimitPlan } from './limit-plan';
import { TokenBuckets, tokenResetUs, tokenRetryAfterUs, tokensRefused, windowTokens } from './token-window';
import { nextUtcMidnightUs } from './utc-day';

export type LimitScope = 'key' | 'workspace' | 'ip';
export type LimitKind = 'rpm' | 'tpm' | 'daily_requests' | 'daily_spend';

export interface LimitStatus {
  scope: LimitScope;
  kind: LimitKind;
  refused: boolean;
  /** header values: counts, or decimal currency amounts for daily spend */
  limit: string;
  remaining: string;
  /** when the limit is back to full */
  resetUs: number;
  /** when the refused request would be allowed; 0 when allowed */
  retryAfterUs: number;
}

/** One scope's counters as the check script read them, before this request. */
export interface ScopeState {
  tatUs: number;
  tokens: TokenBuckets;
  dayRequests: number;
  daySpend: bigint;
}

export interface CheckReply {
  nowUs: number;
  refusedBits: number;
  key: ScopeState;
  workspace: ScopeState;
}

export interface IpReply {
  nowUs: number;
  refused: boolean;
  tatUs: number;
}

const BITS: Record<LimitKind, number> = { rpm: 1, tpm: 4, daily_requests: 16, daily_spend: 64 };

/** The bit check.lua.ts sets when this cap refused (key bits; the workspace's are twice as large). */
export function refusedBit(scope: 'key' | 'workspace', kind: LimitKind): number {
  return BITS[kind] * (scope === 'key' ? 1 : 2);
}

export function parseCheckReply(reply: unknown): CheckReply {
  const r = asArray(reply, 12);
  const scope = (o: number): ScopeState => ({
    tatUs: Number(r[o]),
    tokens: { prev: Number(r[o + 1]), cur: Number(r[o + 2]) },
    dayRequests: Number(r[o + 3]),
    daySpend: BigInt(String(r[o + 4])),
  });
  return { nowUs: Number(r[0]), refusedBits: Number(r[1]), key: scope(2), workspace: scope(7) };
}

export function parseIpReply(reply: unknown): IpReply {
  const r = asArray(reply, 3);
  return { nowUs: Number(r[0]), refused: Number(r[1]) === 1, tatUs: Number(r[2]) };
}

function asArray(reply: unknown, length: number): unknown[] {
  if (!Array.isArray(reply) || reply.length !== length)
    throw new Error(`unexpected limits script reply: ${String(reply)}`);
  return reply;
}

export function gcraStatus(scope: LimitScope, p: GcraParams, tatUs: number, nowUs: number): LimitStatus {
  const g = gcra(tatUs, nowUs, p);
  return {
    scope,
    kind: 'rpm',
    refused: !g.allowed,
    limit: String(p.limit),
    remaining: String(g.remaining),
    resetUs: g.resetUs,
    retryAfterUs: g.retryAfterUs,
  };
}

/** Every cap a scope has, evaluated on its state at `nowUs` (the rules the check script applies). */
export function scopeStatuses(
  scope: 'key' | 'workspace',
  plan: ScopePlan,
  s: ScopeState,
  nowUs: number,
): LimitStatus[] {
  const out: LimitStatus[] = [];
  if (plan.rpm) out.push(gcraStatus(scope, plan.rpm, s.tatUs, nowUs));
  if (plan.tpm !== null) {
    const refused = tokensRefused(s.tokens, plan.tpm, nowUs);
    out.push({
      scope,
      kind: 'tpm',
      refused,
      limit: String(plan.tpm),
      remaining: String(Math.max(0, Math.floor(plan.tpm - windowTokens(s.tokens, nowUs)))),
      resetUs: tokenResetUs(s.tokens, nowUs),
      retryAfterUs: refused ? tokenRetryAfterUs(s.tokens, plan.tpm, nowUs) : 0,
    });
  }
  const midnight = nextUtcMidnightUs(nowUs);
  if (plan.dailyRequests !== null) {
    const refused = s.dayRequests >= plan.dailyRequests;
    out.push({
      scope,
      kind: 'daily_requests',
      refused,
      limit: String(plan.dailyRequests),
      remaining: String(Math.max(0, plan.dailyRequests - s.dayRequests - (refused ? 0 : 1))),
      resetUs: midnight,
      retryAfterUs: refused ? midnight - nowUs : 0,
    });
  }
  if (plan.dailySpend !== null) {
    const refused = s.daySpend >= plan.dailySpend;
    const left = plan.dailySpend - s.daySpend;
    out.push({
      scope,
      kind: 'daily_spend',
      refused,
      limit: formatAmount(plan.dailySpend),
      remaining: formatAmount(left > 0n ? left : 0n),
      resetUs: midnight,
      retryAfterUs: refused ? midnight - nowUs : 0,
    });
  }
  return out;
}

/**
 * The caps that refused, as the script's bits say (the script is the judge; a cap it refused is
 * reported as refused even if rounding here would disagree).
 */
export function refusalsOf(reply: CheckReply, plan: LimitPlan): LimitStatus[] {
  const all = [
    ...scopeStatuses('key', plan.key, reply.key, reply.nowUs),
    ...scopeStatuses('workspace', plan.workspace, reply.workspace, reply.nowUs),
  ];
  return all
    .filter((s) => s.scope !== 'ip' && (reply.refusedBits & refusedBit(s.scope, s.kind)) !== 0)
    .map((s) => ({ ...s, refused: true, remaining: s.kind === 'daily_spend' ? formatAmount(0n) : '0' }));
}
