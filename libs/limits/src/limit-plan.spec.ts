import { checkArgs, DAILY_TTL_MS, limitPlan, recordArgs, refundArgs, scopeTtlMs } from './limit-plan';
import { keyContext } from './test-key-context';

const ids = { keyId: 'k1', workspaceId: 'w1' };

describe('limitPlan', () => {
  it('a key without its own rpm gets the default; a workspace without one has no rpm cap', () => {
    const plan = limitPlan(keyContext(ids), 60);
    expect(plan.key.rpm).toEqual({ limit: 60, intervalUs: 1_000_000, periodUs: 60_000_000 });
    expect(plan.workspace.rpm).toBeNull();
    expect(limitPlan(keyContext(ids, { rpm: 600 }), 60).key.rpm?.limit).toBe(600);
  });

  it('lays out six check arguments per scope, key first, empty for no cap', () => {
    const plan = limitPlan(
      keyContext(ids, { tpm: 1000 }, { rpm: 120, daily_requests: 50, daily_spend: 5_000_000_000n }),
      60,
    );
    expect(checkArgs(plan)).toEqual([
      '1000000',
      '60000000',
      '1000',
      '',
      '',
      '120000',
      '500000',
      '60000000',
      '',
      '50',
      '5000000000',
      String(DAILY_TTL_MS),
    ]);
  });

  it('keeps a hash as long as its longest-lived counter', () => {
    expect(scopeTtlMs(limitPlan(keyContext(ids), 60).key)).toBe(61_000);
    expect(scopeTtlMs(limitPlan(keyContext(ids), 60).workspace)).toBe(0);
    expect(scopeTtlMs(limitPlan(keyContext(ids, { daily_spend: 1n }), 60).key)).toBe(DAILY_TTL_MS);
  });

  it('records tokens and spend only where a cap uses them, and nothing when no scope does', () => {
    const plain = limitPlan(keyContext(ids, { rpm: 10, daily_requests: 5 }), 60);
    expect(recordArgs(plain, { tokens: 100, spend: 10n })).toBeNull();
    const plan = limitPlan(keyContext(ids, { tpm: 1000 }, { daily_spend: 10n }), 60);
    expect(recordArgs(plan, { tokens: 99.6, spend: 7n })).toEqual([
      '100',
      '7',
      '1',
      '0',
      '120000',
      '0',
      '1',
      String(DAILY_TTL_MS),
    ]);
    expect(recordArgs(plan, { tokens: 0, spend: 0n })).toBeNull();
    expect(recordArgs(plan, { tokens: 5, spend: -3n })).toEqual([
      '5',
      '0',
      '1',
      '0',
      '120000',
      '0',
      '0',
      String(DAILY_TTL_MS),
    ]);
  });

  it('refunds the rpm intervals and daily request counts a check consumed', () => {
    const plan = limitPlan(keyContext(ids, {}, { rpm: 30, daily_requests: 9 }), 60);
    expect(refundArgs(plan, 20000)).toEqual(['20000', '1000000', '0', '2000000', '1']);
  });
});
