import { limitPlan } from './limit-plan';
import {
  bindingRpm,
  CheckReply,
  parseCheckReply,
  parseIpReply,
  refusalsOf,
  ScopeState,
  scopeStatuses,
} from './limit-status';
import { keyContext } from './test-key-context';
import { nextUtcMidnightUs } from './utc-day';

const S = 1_000_000;
const NOW = Date.parse('2025-05-05T12:00:30Z') * 1000;
const SEC = NOW / S;
const ids = { keyId: 'k1', workspaceId: 'w1' };
const empty: ScopeState = {
  window: { total: 0, lo: SEC - 60, counts: [] },
  tokens: { prev: 0, cur: 0 },
  dayRequests: 0,
  daySpend: 0n,
};

describe('parseCheckReply', () => {
  it('reads the script reply: now, bits, then seven values per scope', () => {
    const r = parseCheckReply([
      NOW,
      3,
      [11, SEC - 60, [1, 0, 2], 1, 2, 3, '40'],
      [12, SEC - 59, [], 4, 5, 6, '99999999999999999999'],
      1,
    ]);
    expect(r.nowUs).toBe(NOW);
    expect(r.refusedBits).toBe(3);
    expect(r.key).toEqual({
      window: { total: 11, lo: SEC - 60, counts: [1, 0, 2] },
      tokens: { prev: 1, cur: 2 },
      dayRequests: 3,
      daySpend: 40n,
    });
    expect(r.workspace.daySpend).toBe(99999999999999999999n);
    expect(r.granted).toBe(1);
    expect(() => parseCheckReply([1, 2])).toThrow();
    expect(() => parseCheckReply([1, 2, [1], [2]])).toThrow();
  });

  it('reads the per-IP reply', () => {
    expect(parseIpReply([NOW, 1, 5, SEC - 60, [5], 0])).toEqual({
      nowUs: NOW,
      refused: true,
      window: { total: 5, lo: SEC - 60, counts: [5] },
      granted: 0,
    });
  });
});

describe('scopeStatuses', () => {
  it('describes every cap of a scope with what remains after this request', () => {
    const plan = limitPlan(
      keyContext(ids, { rpm: 10, tpm: 100, daily_requests: 5, daily_spend: 2_000_000_000n }),
      60,
    ).key;
    const st = scopeStatuses(
      'key',
      plan,
      { ...empty, tokens: { prev: 0, cur: 40 }, dayRequests: 2, daySpend: 500_000_000n },
      NOW,
      0,
    );
    expect(st.map((s) => [s.kind, s.refused, s.limit, s.remaining])).toEqual([
      ['rpm', false, '10', '9'],
      ['tpm', false, '100', '60'],
      ['daily_requests', false, '5', '2'],
      ['daily_spend', false, '2.00', '1.50'],
    ]);
  });

  it('daily caps refuse at the cap and reset at the next UTC midnight', () => {
    const plan = limitPlan(keyContext(ids, { daily_requests: 5, daily_spend: 100n }), 60).key;
    const st = scopeStatuses('key', plan, { ...empty, dayRequests: 5, daySpend: 100n }, NOW, 0);
    const midnight = nextUtcMidnightUs(NOW);
    expect(st.filter((s) => s.kind !== 'rpm').map((s) => [s.kind, s.refused, s.resetUs, s.retryAfterUs])).toEqual([
      ['daily_requests', true, midnight, midnight - NOW],
      ['daily_spend', true, midnight, midnight - NOW],
    ]);
  });
});

describe('refusalsOf', () => {
  it('reports exactly the caps whose bits the script set, with nothing remaining', () => {
    const plan = limitPlan(keyContext(ids, { tpm: 100 }, { rpm: 10, daily_requests: 1 }), 60);
    // the workspace's 10 requests: 4 in the oldest counted second, 6 twenty seconds later
    const counts = Array<number>(61).fill(0);
    counts[0] = 4;
    counts[20] = 6;
    const reply: CheckReply = {
      nowUs: NOW,
      refusedBits: 2 | 32, // workspace rpm and workspace daily requests
      key: empty,
      workspace: { ...empty, window: { total: 10, lo: SEC - 60, counts }, dayRequests: 1 },
      granted: 0,
    };
    const r = refusalsOf(reply, plan);
    expect(r.map((s) => `${s.scope}:${s.kind}`)).toEqual(['workspace:rpm', 'workspace:daily_requests']);
    expect(r.every((s) => s.refused && s.remaining === '0')).toBe(true);
    // one place back when the oldest second leaves the window; all of them when the newest does
    expect(r[0].retryAfterUs).toBe(S);
    expect(r[0].resetUs).toBe(NOW + 21 * S);
    expect(refusalsOf({ ...reply, refusedBits: 0 }, plan)).toEqual([]);
  });
});

describe('bindingRpm', () => {
  it("is the rpm with the fewest places left: the workspace's when it is tighter", () => {
    const plan = limitPlan(keyContext(ids, { rpm: 100 }, { rpm: 5 }), 60);
    const reply: CheckReply = {
      nowUs: NOW,
      refusedBits: 0,
      key: { ...empty, window: { total: 10, lo: SEC - 60, counts: [] } },
      workspace: { ...empty, window: { total: 3, lo: SEC - 60, counts: [] } },
      granted: 1,
    };
    expect(bindingRpm(reply, plan)).toMatchObject({ scope: 'workspace', limit: '5', remaining: '1' });
    expect(bindingRpm(reply, limitPlan(keyContext(ids, { rpm: 100 }), 60))).toMatchObject({ remaining: '89' });
  });
});
