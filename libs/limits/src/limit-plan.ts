// Which caps apply to one request, resolved from the key's context, and how they travel to the Lua
// scripts (ARGV layouts are documented in check.lua.ts and record.lua.ts).
import type { KeyContext, LimitSet } from '@switchyard/auth';
import { GcraParams, gcraParams } from './gcra';

/** The caps of one scope (key or workspace); null means no cap there. */
export interface ScopePlan {
  rpm: GcraParams | null;
  tpm: number | null;
  dailyRequests: number | null;
  dailySpend: bigint | null;
}

export interface LimitPlan {
  key: ScopePlan;
  workspace: ScopePlan;
}

/** Counters outlive the day they count, so a late `record` still finds today's (contract: about 2 days). */
export const DAILY_TTL_MS = 2 * 86_400_000;
/** The current and previous minute's token buckets. */
export const TOKEN_TTL_MS = 120_000;

export function limitPlan(key: KeyContext, defaultKeyRpm: number): LimitPlan {
  return {
    // every key has an rpm: its own, or the deployment default
    key: scopePlan(key.keyLimits, key.keyLimits.rpm ?? defaultKeyRpm),
    workspace: scopePlan(key.workspaceLimits, key.workspaceLimits.rpm),
  };
}

function scopePlan(l: LimitSet, rpm: number | null): ScopePlan {
  return {
    rpm: rpm === null ? null : gcraParams(rpm, 60),
    tpm: l.tpm,
    dailyRequests: l.daily_requests,
    dailySpend: l.daily_spend,
  };
}

/** How long a scope's hash must live: long enough for every counter its caps use. */
export function scopeTtlMs(s: ScopePlan): number {
  let ttl = 0;
  if (s.rpm) ttl = Math.ceil(s.rpm.periodUs / 1000) + 1000;
  if (s.tpm !== null) ttl = Math.max(ttl, TOKEN_TTL_MS);
  if (s.dailyRequests !== null || s.dailySpend !== null) ttl = Math.max(ttl, DAILY_TTL_MS);
  return ttl;
}

const opt = (v: number | bigint | null): string => (v === null ? '' : String(v));

/** ARGV of check.lua.ts: six values per scope, key first. */
export function checkArgs(plan: LimitPlan): string[] {
  return [plan.key, plan.workspace].flatMap((s) => [
    s.rpm ? String(s.rpm.intervalUs) : '',
    s.rpm ? String(s.rpm.periodUs) : '',
    opt(s.tpm),
    opt(s.dailyRequests),
    opt(s.dailySpend === null ? null : s.dailySpend < 0n ? 0n : s.dailySpend),
    String(scopeTtlMs(s)),
  ]);
}

/**
 * ARGV of record.lua.ts, or null when there is nothing to add: a scope's tokens count only where it
 * has a tpm cap, its spend only where it has a daily spend cap.
 */
export function recordArgs(plan: LimitPlan, usage: { tokens: number; spend: bigint }): string[] | null {
  const tokens = Number.isFinite(usage.tokens) ? Math.max(0, Math.round(usage.tokens)) : 0;
  const spend = usage.spend > 0n ? usage.spend : 0n;
  const flags = [plan.key, plan.workspace].map((s) => ({
    tokens: tokens > 0 && s.tpm !== null,
    spend: spend > 0n && s.dailySpend !== null,
    ttl: scopeTtlMs(s),
  }));
  if (!flags.some((f) => f.tokens || f.spend)) return null;
  return [
    String(tokens),
    String(spend),
    ...flags.flatMap((f) => [f.tokens ? '1' : '0', f.spend ? '1' : '0', String(f.ttl)]),
  ];
}

/** ARGV of refund.lua.ts: what a check consumed, to give back when the per-IP net refused the request. */
export function refundArgs(plan: LimitPlan, day: number): string[] {
  return [
    String(day),
    ...[plan.key, plan.workspace].flatMap((s) => [
      s.rpm ? String(s.rpm.intervalUs) : '',
      s.dailyRequests !== null ? '1' : '0',
    ]),
  ];
}
