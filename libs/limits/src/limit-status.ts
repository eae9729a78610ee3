// What the Lua scripts answered, turned into one status per cap: its limit, what remains, when it is
// full again and, when refused, when to retry. The scripts decide allow or refuse; these functions
// apply the same rules to the state they read, to describe the outcome in headers.
import { formatAmount } from '@switchyard/core';
import { ScopePlan, LimitPlan } from './limit-plan';
import { WindowParams, WindowSeen, windowStatus } from './sliding-window';
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
  window: WindowSeen;
  tokens: TokenBuckets;
  dayRequests: number;
  daySpend: bigint;
}

export interface CheckReply {
  nowUs: number;
  refusedBits: number;
  key: ScopeState;
  workspace: ScopeState;
  /** rpm places counted for this request (more than one: a lease) */
  granted: number;
}

export interface IpReply {
  nowUs: number;
  refused: boolean;
  window: WindowSeen;
  granted: number;
}

const BITS: Record<LimitKind, number> = { rpm: 1, tpm: 4, daily_requests: 16, daily_spend: 64 };

/** The bit check.lua.ts sets when this cap refused (key bits; the workspace's are twice as large). */
export function refusedBit(scope: 'key' | 'workspace', kind: LimitKind): number {
  return BITS[kind] * (scope === 'key' ? 1 : 2);
}

export function parseCheckReply(reply: unknown): CheckReply {
  const r = asArray(reply, 5);
  const scope = (x: unknown): ScopeState => {
    const s = asArray(x, 7);
    return {
      window: { total: Number(s[0]), lo: Number(s[1]), counts: asArray(s[2]).map(Number) },
      tokens: { prev: Number(s[3]), cur: Number(s[4]) },
      dayRequests: Number(s[5]),
      daySpend: BigInt(String(s[6])),
    };
  };
  return {
    nowUs: Number(r[0]),
    refusedBits: Number(r[1]),
    key: scope(r[2]),
    workspace: scope(r[3]),
    granted: Number(r[4]),
  };
}

export function parseIpReply(reply: unknown): IpReply {
  const r = asArray(reply, 6);
  return {
    nowUs: Number(r[0]),
    refused: Number(r[1]) === 1,
    window: { total: Number(r[2]), lo: Number(r[3]), counts: asArray(r[4]).map(Number) },
    granted: Number(r[5]),
  };
}

function asArray(reply: unknown, length?: number): unknown[] {
  if (!Array.isArray(reply) || (length !== undefined && reply.length !== length))
    throw new Error(`unexpected limits script reply: ${String(reply)}`);
  return reply;
}

export function windowLimitStatus(
  scope: LimitScope,
  p: WindowParams,
  seen: WindowSeen,
  nowUs: number,
  refused: boolean,
): LimitStatus {
  const w = windowStatus(p, nowUs, seen, refused);
  return {
    scope,
    kind: 'rpm',
    refused,
    limit: String(p.limit),
    remaining: String(w.remaining),
    resetUs: w.resetUs,
    retryAfterUs: w.retryAfterUs,
  };
}

/** The caps a scope's check covered, evaluated on its state at `nowUs` (the rules the check script applies). */
export function scopeStatuses(
  scope: 'key' | 'workspace',
  plan: ScopePlan,
  s: ScopeState,
  nowUs: number,
  refusedBits: number,
): LimitStatus[] {
  const out: LimitStatus[] = [];
  if (plan.rpm) {
    out.push(windowLimitStatus(scope, plan.rpm, s.window, nowUs, (refusedBits & refusedBit(scope, 'rpm')) !== 0));
  }
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
    ...scopeStatuses('key', plan.key, reply.key, reply.nowUs, reply.refusedBits),
    ...scopeStatuses('workspace', plan.workspace, reply.workspace, reply.nowUs, reply.refusedBits),
  ];
  return all
    .filter((s) => s.scope !== 'ip' && (reply.refusedBits & refusedBit(s.scope, s.kind)) !== 0)
    .map((s) => ({
      ...s,
      refused: true,
      remaining: s.kind === 'daily_spend' ? formatAmount(0n) : '0',
      retryAfterUs: Math.max(1, s.retryAfterUs),
    }));
}

/** The rpm that binds: the one with the fewest places left (a workspace cap tighter than the key's). */
export function bindingRpm(reply: CheckReply, plan: LimitPlan): LimitStatus | null {
  const rpm: LimitStatus[] = [];
  if (plan.key.rpm) rpm.push(windowLimitStatus('key', plan.key.rpm, reply.key.window, reply.nowUs, false));
  if (plan.workspace.rpm)
    rpm.push(windowLimitStatus('workspace', plan.workspace.rpm, reply.workspace.window, reply.nowUs, false));
  if (!rpm.length) return null;
  return rpm.reduce((a, b) => (Number(b.remaining) < Number(a.remaining) ? b : a));
}
