import { adjustArgs, checkArgs, DAILY_TTL_MS, limitPlan, scopesCounted, scopeTtlMs } from './limit-plan';
import { keyContext } from './test-key-context';

const ids = { keyId: 'k1', workspaceId: 'w1' };

describe('limitPlan', () => {
  it('a key without its own rpm gets the default; a workspace without one has no rpm cap', () => {
    const plan = limitPlan(keyContext(ids), 60);
    expect(plan.key.rpm).toEqual({ limit: 60, bucketUs: 1_000_000 });
    expect(plan.workspace.rpm).toBeNull();
    expect(limitPlan(keyContext(ids, { rpm: 600 }), 60).key.rpm?.limit).toBe(600);
  });

  it('keeps a hash as long as its longest-lived counter', () => {
    expect(scopeTtlMs(limitPlan(keyContext(ids), 60).key)).toBe(62_000);
    expect(scopeTtlMs(limitPlan(keyContext(ids), 60).workspace)).toBe(0);
    expect(scopeTtlMs(limitPlan(keyContext(ids, { tpm: 5 }), 60).key)).toBe(120_000);
    expect(scopeTtlMs(limitPlan(keyContext(ids, { daily_spend: 1n }), 60).key)).toBe(DAILY_TTL_MS);
  });
});

describe('checkArgs', () => {
  const plan = limitPlan(
    keyContext(ids, { tpm: 1000 }, { rpm: 120, daily_requests: 50, daily_spend: 5_000_000_000n }),
    60,
  );

  it('an admission: seven values per scope, key first, with the reservation where a cap uses it', () => {
    expect(checkArgs(plan, { rpm: true, admission: { tokens: 99.6, spend: 7n } })).toEqual([
      '',
      '1000000',
      ...['60', '1000', '', '', '100', '0', '120000'],
      ...['120', '', '50', '5000000000', '0', '7', String(DAILY_TTL_MS)],
    ]);
  });

  it('another route: only rpm, but the TTL still covers every counter of the hash', () => {
    expect(checkArgs(plan, { rpm: true, nowUs: 123 })).toEqual([
      '123',
      '1000000',
      ...['60', '', '', '', '0', '0', '120000'],
      ...['120', '', '', '', '0', '0', String(DAILY_TTL_MS)],
    ]);
  });

  it('a request the guard already counted: no rpm', () => {
    const args = checkArgs(plan, { rpm: false, admission: { tokens: 1, spend: 1n } });
    expect([args[2], args[9]]).toEqual(['', '']);
  });
});

describe('adjustArgs', () => {
  const plan = limitPlan(keyContext(ids, { tpm: 1000 }, { rpm: 30, daily_requests: 9, daily_spend: 10n }), 60);
  const scopes = scopesCounted(plan, { rpm: true, admission: { tokens: 0, spend: 0n } });

  it('corrects tokens and spend only where the check reserved them', () => {
    expect(
      adjustArgs({
        minute: 100,
        day: 7,
        tokensDelta: -40,
        spendDelta: 3n,
        rpmBucket: null,
        scopes,
        giveBackRequest: false,
      }),
    ).toEqual([
      '',
      '100',
      '7',
      '-40',
      '3',
      '',
      ...['1', '0', '0', '0', '120000'],
      ...['0', '1', '0', '0', String(DAILY_TTL_MS)],
    ]);
  });

  it('gives back the rpm place and the daily request of a request refused after its check', () => {
    expect(
      adjustArgs({
        minute: 100,
        day: 7,
        tokensDelta: 0,
        spendDelta: 0n,
        rpmBucket: 6000,
        scopes,
        giveBackRequest: true,
      }),
    ).toEqual([
      '',
      '100',
      '7',
      '0',
      '0',
      '6000',
      ...['0', '0', '1', '0', '120000'],
      ...['0', '0', '1', '1', String(DAILY_TTL_MS)],
    ]);
  });

  it('is null when nothing would change', () => {
    const x = {
      minute: null,
      day: null,
      tokensDelta: 0,
      spendDelta: 0n,
      rpmBucket: null,
      scopes,
      giveBackRequest: false,
    };
    expect(adjustArgs(x)).toBeNull();
    const none = scopesCounted(limitPlan(keyContext(ids, { rpm: 10, daily_requests: 5 }), 60), {
      rpm: true,
      admission: { tokens: 5, spend: 5n },
    });
    expect(adjustArgs({ ...x, tokensDelta: 100, spendDelta: 10n, scopes: none })).toBeNull();
  });
});
