// Which caps apply to one request, resolved from the key's context, and how they travel to the Lua
// scripts (ARGV layouts are documented in check.lua.ts, ip.lua.ts and adjust.lua.ts).
import type { KeyContext, LimitSet } from '@switchyard/auth';
import { WindowParams, windowParams } from './sliding-window';

/** The caps of one scope (key or workspace); null means no cap there. */
export interface ScopePlan {
  rpm: WindowParams | null;
  tpm: number | null;
  dailyRequests: number | null;
  dailySpend: bigint | null;
}

export interface LimitPlan {
  key: ScopePlan;
  workspace: ScopePlan;
}

/** What a model request sets aside at check time: its estimated tokens and worst-case cost. */
export interface AdmissionCost {
  tokens: number;
  spend: bigint;
}

/** Counters outlive the day they count, so a late correction still finds today's (about 2 days). */
export const DAILY_TTL_MS = 2 * 86_400_000;
/** The current and previous minute's token buckets. */
export const TOKEN_TTL_MS = 120_000;
/** rpm buckets are 1 s wide: the window is a minute. */
export const RPM_WINDOW = windowParams(1, 60);

export function limitPlan(key: KeyContext, defaultKeyRpm: number): LimitPlan {
  return {
    // every key has an rpm: its own, or the deployment default
    key: scopePlan(key.keyLimits, key.keyLimits.rpm ?? defaultKeyRpm),
    workspace: scopePlan(key.workspaceLimits, key.workspaceLimits.rpm),
  };
}

function scopePlan(l: LimitSet, rpm: number | null): ScopePlan {
  return {
    rpm: rpm === null ? null : windowParams(rpm, 60),
    tpm: l.tpm,
    dailyRequests: l.daily_requests,
    dailySpend: l.daily_spend === null ? null : l.daily_spend < 0n ? 0n : l.daily_spend,
  };
}

/** How long a scope's hash must live: long enough for every counter its caps use. */
export function scopeTtlMs(s: ScopePlan): number {
  let ttl = 0;
  // 61 buckets are counted, plus a second of slack for a late correction
  if (s.rpm) ttl = 62_000;
  if (s.tpm !== null) ttl = Math.max(ttl, TOKEN_TTL_MS);
  if (s.dailyRequests !== null || s.dailySpend !== null) ttl = Math.max(ttl, DAILY_TTL_MS);
  return ttl;
}

const opt = (v: number | bigint | null): string => (v === null ? '' : String(v));

/** Whole, non-negative tokens (estimates and usage may be fractional or garbage). */
export function wholeTokens(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;
}

export interface CheckShape {
  /** count the request against rpm (false when the guard already did) */
  rpm: boolean;
  /** an admitted model request: daily request caps, and its cost reserved against tpm and daily spend */
  admission?: AdmissionCost;
  /** tests only: the scripts' clock in µs */
  nowUs?: number;
}

/** ARGV of check.lua.ts: the clock, the rpm bucket width, then seven values per scope, key first. */
export function checkArgs(plan: LimitPlan, shape: CheckShape): string[] {
  const a = shape.admission;
  const tokens = a ? wholeTokens(a.tokens) : 0;
  const spend = a && a.spend > 0n ? a.spend : 0n;
  return [
    shape.nowUs === undefined ? '' : String(shape.nowUs),
    String(RPM_WINDOW.bucketUs),
    ...[plan.key, plan.workspace].flatMap((s) => [
      shape.rpm && s.rpm ? String(s.rpm.limit) : '',
      a ? opt(s.tpm) : '',
      a ? opt(s.dailyRequests) : '',
      a ? opt(s.dailySpend) : '',
      a && s.tpm !== null ? String(tokens) : '0',
      a && s.dailySpend !== null ? String(spend) : '0',
      String(scopeTtlMs(s)),
    ]),
  ];
}

/** Which counters of one scope a check wrote, so that a correction touches only those. */
export interface ScopeCounted {
  tokens: boolean;
  spend: boolean;
  rpm: boolean;
  dailyRequest: boolean;
  ttlMs: number;
}

export function scopesCounted(plan: LimitPlan, shape: CheckShape): [ScopeCounted, ScopeCounted] {
  const a = shape.admission;
  const of = (s: ScopePlan): ScopeCounted => ({
    tokens: !!a && s.tpm !== null,
    spend: !!a && s.dailySpend !== null,
    rpm: shape.rpm && s.rpm !== null,
    dailyRequest: !!a && s.dailyRequests !== null,
    ttlMs: scopeTtlMs(s),
  });
  return [of(plan.key), of(plan.workspace)];
}

export interface Adjustment {
  /** minute and UTC day the check counted in; null: the current ones */
  minute: number | null;
  day: number | null;
  tokensDelta: number;
  spendDelta: bigint;
  /** rpm bucket to give a place back in (a request the per-IP net refused), else null */
  rpmBucket: number | null;
  scopes: [ScopeCounted, ScopeCounted];
  /** which parts to apply: corrections touch tokens and spend; give-backs also rpm and daily requests */
  giveBackRequest: boolean;
}

/** ARGV of adjust.lua.ts, or null when it would change nothing. */
export function adjustArgs(x: Adjustment, nowUs?: number): string[] | null {
  const flags = x.scopes.map((s) => ({
    tokens: s.tokens && x.tokensDelta !== 0,
    spend: s.spend && x.spendDelta !== 0n,
    rpm: x.giveBackRequest && s.rpm && x.rpmBucket !== null,
    daily: x.giveBackRequest && s.dailyRequest,
    ttl: s.ttlMs,
  }));
  if (!flags.some((f) => f.tokens || f.spend || f.rpm || f.daily)) return null;
  const bit = (b: boolean) => (b ? '1' : '0');
  return [
    nowUs === undefined ? '' : String(nowUs),
    x.minute === null ? '' : String(x.minute),
    x.day === null ? '' : String(x.day),
    String(x.tokensDelta),
    String(x.spendDelta),
    x.rpmBucket === null ? '' : String(x.rpmBucket),
    ...flags.flatMap((f) => [bit(f.tokens), bit(f.spend), bit(f.rpm), bit(f.daily), String(f.ttl)]),
  ];
}
