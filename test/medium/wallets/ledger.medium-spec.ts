// The money rules of DESIGN.md "Money", proved on real Postgres: the database itself refuses what the
// ledger must never hold (unbalanced transactions, edited entries, negative wallets), holds and
// settlement charge exactly what they should, and the invariants survive heavy concurrency.
import { randomBytes, randomUUID } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CoreModule, GatewayError, IdempotencyService, createLogger, loadConfig, parseAmount } from '@switchyard/core';
import { LedgerRepository, Reservation, WalletLeasesService, WalletsModule, WalletsService } from '@switchyard/wallets';
import { freshDatabase } from '../../setup/test-db';
import { expectLedgerInvariantsIn } from './ledger-invariants';

jest.setTimeout(60_000);

// ---- harness ----

let database: { url: string; drop: () => Promise<void> };
let app: TestingModule;
let db: DataSource;
let wallets: WalletsService;
let ledger: LedgerRepository;
let leases: WalletLeasesService;

beforeAll(async () => {
  database = await freshDatabase();
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '30',
    REDIS_PREFIX: `sy:test:${randomBytes(4).toString('hex')}:`,
    // spends go through wallet leases (the /v1 path): post quickly and release when idle
    LEASE_FLUSH_MS: '30',
    LEASE_IDLE_MS: '200',
  });
  app = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config, logger: createLogger(process.env.SY_TEST_LOG ?? 'silent') }), WalletsModule],
  }).compile();
  await app.init();
  db = app.get(DataSource);
  wallets = app.get(WalletsService);
  ledger = app.get(LedgerRepository);
  leases = app.get(WalletLeasesService);
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const one = async <T = string>(sql: string, params: unknown[] = []): Promise<T> => {
  const rows = (await db.query(sql, params)) as Array<Record<string, T>>;
  return Object.values(rows[0])[0];
};

async function agent(): Promise<string> {
  return one(`INSERT INTO agents (name) VALUES ($1) RETURNING id`, [`agent ${randomUUID()}`]);
}

async function workspace(agentId?: string): Promise<string> {
  return one(`INSERT INTO workspaces (agent_id, name) VALUES ($1, $2) RETURNING id`, [
    agentId ?? (await agent()),
    `ws ${randomUUID()}`,
  ]);
}

const ACTOR = randomUUID();

/** A workspace whose wallet holds `nanos`, credited by the platform admin (a real recharge). */
async function fundedWorkspace(nanos: bigint, agentId?: string): Promise<{ ws: string; account: string }> {
  const ws = await workspace(agentId);
  if (nanos > 0n)
    await wallets.credit({ type: 'workspace', id: ws }, nanos, { actorId: ACTOR, reference: null, note: 'test' });
  const account = await ledger.ensureWallet('workspace', ws, 'USD');
  return { ws, account };
}

interface AccountRow {
  balance: bigint;
  held: bigint;
}

async function account(id: string): Promise<AccountRow> {
  const [r] = (await db.query(`SELECT balance::text, held::text FROM accounts WHERE id = $1`, [id])) as Array<{
    balance: string;
    held: string;
  }>;
  return { balance: BigInt(r.balance), held: BigInt(r.held) };
}

const holdsOf = async (accountId: string) =>
  Number(await one(`SELECT count(*)::int AS n FROM holds WHERE account_id = $1`, [accountId]));

async function expectLedgerInvariants(): Promise<void> {
  await expectLedgerInvariantsIn(db);
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const between = (r: () => number, lo: number, hi: number) => BigInt(lo + Math.floor(r() * (hi - lo + 1)));
const pause = (ms: number) => new Promise((res) => setTimeout(res, ms));

function gatewayCode(e: unknown): string | undefined {
  return e instanceof GatewayError ? e.code : undefined;
}

/** Postgres error codes of anything that is not an expected GatewayError (40P01 would be a deadlock). */
function unexpected(errors: unknown[]): string[] {
  return errors.map((e) => `${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
}

async function pgClient(): Promise<Client> {
  const c = new Client({ connectionString: database.url });
  await c.connect();
  return c;
}

// ---- the database refuses what the ledger must never hold ----

describe('the database guards the ledger', () => {
  let wallet: string;
  let treasury: string;

  beforeAll(async () => {
    ({ account: wallet } = await fundedWorkspace(1_000n));
    treasury = ledger.system('treasury');
  });

  it('refuses to commit a transaction whose entries do not sum to zero, and keeps nothing of it', async () => {
    const c = await pgClient();
    try {
      const before = await one(`SELECT count(*)::int FROM ledger_entries`);
      await c.query('BEGIN');
      const { rows } = await c.query(
        `INSERT INTO ledger_transactions (kind, note) VALUES ('adjustment', 'unbalanced') RETURNING id`,
      );
      await c.query(
        `INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, 100), ($1, $3, -99)`,
        [rows[0].id, wallet, treasury],
      );
      // the check is deferred: the statement itself passes, the commit is what fails
      await expect(c.query('COMMIT')).rejects.toThrow(/does not balance/);
      expect(await one(`SELECT count(*)::int FROM ledger_entries`)).toBe(before);
      expect(await one(`SELECT count(*)::int FROM ledger_transactions WHERE id = $1`, [rows[0].id])).toBe(0);

      // a one-sided entry is refused the same way
      await c.query('BEGIN');
      const t2 = await c.query(`INSERT INTO ledger_transactions (kind) VALUES ('adjustment') RETURNING id`);
      await c.query(`INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, 5)`, [
        t2.rows[0].id,
        wallet,
      ]);
      await expect(c.query('COMMIT')).rejects.toThrow(/does not balance/);
    } finally {
      await c.end();
    }
  });

  it('checks the sum at commit, so a balanced transaction may be written in several statements', async () => {
    const c = await pgClient();
    try {
      await c.query('BEGIN');
      const { rows } = await c.query(
        `INSERT INTO ledger_transactions (kind, note) VALUES ('adjustment', 'two steps') RETURNING id`,
      );
      await c.query(`INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, -40)`, [
        rows[0].id,
        treasury,
      ]);
      await c.query(`INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, 40)`, [
        rows[0].id,
        wallet,
      ]);
      await c.query(
        `UPDATE accounts SET balance = balance + CASE WHEN id = $1 THEN 40 ELSE -40 END WHERE id IN ($1, $2)`,
        [wallet, treasury],
      );
      await c.query('COMMIT');
      expect(await one(`SELECT sum(amount)::text FROM ledger_entries WHERE transaction_id = $1`, [rows[0].id])).toBe(
        '0',
      );

      // entries added later to an already committed transaction must balance too
      await c.query('BEGIN');
      await c.query(`INSERT INTO ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, 7)`, [
        rows[0].id,
        wallet,
      ]);
      await expect(c.query('COMMIT')).rejects.toThrow(/does not balance/);
    } finally {
      await c.end();
    }
  });

  it('refuses any UPDATE or DELETE of ledger entries (append-only)', async () => {
    const count = await one(`SELECT count(*)::int FROM ledger_entries`);
    const sum = await one(`SELECT sum(amount)::text FROM ledger_entries WHERE account_id = $1`, [wallet]);
    await expect(
      db.query(`UPDATE ledger_entries SET amount = amount + 1 WHERE account_id = $1`, [wallet]),
    ).rejects.toThrow(/append-only/);
    // even a "balanced" edit of a whole transaction is refused
    await expect(db.query(`UPDATE ledger_entries SET amount = -amount`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM ledger_entries WHERE account_id = $1`, [wallet])).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM ledger_entries`)).rejects.toThrow(/append-only/);
    expect(await one(`SELECT count(*)::int FROM ledger_entries`)).toBe(count);
    expect(await one(`SELECT sum(amount)::text FROM ledger_entries WHERE account_id = $1`, [wallet])).toBe(sum);
  });

  it('never lets a wallet go below zero, not even by direct SQL (CHECK balance - held >= 0)', async () => {
    const { balance } = await account(wallet);
    await expect(db.query(`UPDATE accounts SET balance = -1 WHERE id = $1`, [wallet])).rejects.toThrow(
      /accounts_available_non_negative/,
    );
    await expect(
      db.query(`UPDATE accounts SET balance = balance - $2::bigint - 1 WHERE id = $1`, [wallet, balance.toString()]),
    ).rejects.toThrow(/accounts_available_non_negative/);
    // holding more than the balance is the same overdraft
    await expect(db.query(`UPDATE accounts SET held = balance + 1 WHERE id = $1`, [wallet])).rejects.toThrow(
      /accounts_available_non_negative/,
    );
    await expect(db.query(`UPDATE accounts SET held = -1 WHERE id = $1`, [wallet])).rejects.toThrow(
      /accounts_held_non_negative/,
    );
    const ws = await workspace();
    await expect(
      db.query(`INSERT INTO accounts (type, owner_id, currency, balance) VALUES ('workspace', $1, 'USD', -5)`, [ws]),
    ).rejects.toThrow(/accounts_available_non_negative/);
    expect((await account(wallet)).balance).toBe(balance);
    // the treasury is a system account: it goes negative as it mints credit
    expect(BigInt(await one(`SELECT balance::text FROM accounts WHERE id = $1`, [treasury]))).toBeLessThan(0n);
  });

  it('posts a usage reference once per kind', async () => {
    await db.query(`INSERT INTO ledger_transactions (kind, reference) VALUES ('adjustment', 'ref-once')`);
    await expect(
      db.query(`INSERT INTO ledger_transactions (kind, reference) VALUES ('adjustment', 'ref-once')`),
    ).rejects.toThrow(/duplicate key/);
    // clean up the entry-less header so the invariants hold (headers are not append-only)
    await db.query(`DELETE FROM ledger_transactions WHERE reference = 'ref-once'`);
  });
});

// ---- holds ----

/** A hold like the one a process that died leaves behind: its row, and `held` raised by its amount. */
async function orphanHold(accountId: string, amount: bigint, expired: boolean): Promise<string> {
  const id = randomUUID();
  await db.transaction(async (m) => {
    await m.query(`UPDATE accounts SET held = held + $2::bigint WHERE id = $1`, [accountId, amount.toString()]);
    await m.query(
      `INSERT INTO holds (id, account_id, amount, kind, expires_at) VALUES ($1, $2, $3, 'lease', now() + $4::interval)`,
      [id, accountId, amount.toString(), expired ? '-1 second' : '1 hour'],
    );
  });
  return id;
}

/** Until every lease of the wallet is posted and released (held back to zero). */
async function settled(accountId: string): Promise<AccountRow> {
  for (let i = 0; i < 200; i++) {
    const a = await account(accountId);
    if (a.held === 0n) return a;
    await pause(25);
  }
  throw new Error('leases were not released');
}

describe('sweeper', () => {
  it('releases expired holds and leaves live ones', async () => {
    const { account: acc } = await fundedWorkspace(1_000n);
    await orphanHold(acc, 300n, true);
    await orphanHold(acc, 200n, true);
    const live = await orphanHold(acc, 100n, false);
    expect(await wallets.sweepExpiredHolds()).toBe(2);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 100n });
    expect(
      (await db.query(`SELECT id FROM holds WHERE account_id = $1`, [acc])).map((r: { id: string }) => r.id),
    ).toEqual([live]);
    expect(await wallets.sweepExpiredHolds()).toBe(0);
  });
});

describe('maintenance sweeps report what they did', () => {
  // Both ran DELETE ... RETURNING through TypeORM, which answers [rows, rowCount] for a bare DELETE:
  // the hold sweep crashed on every run (so orphaned holds were never released) and the idempotency
  // purge always reported 2.
  it('the hold sweep counts released holds and runs clean when there are none', async () => {
    await db.query(`UPDATE holds SET expires_at = now() + interval '1 hour'`);
    expect(await wallets.sweepExpiredHolds()).toBe(0);
    const { account: acc } = await fundedWorkspace(100n);
    await orphanHold(acc, 60n, true);
    expect(await wallets.sweepExpiredHolds()).toBe(1);
    expect(await account(acc)).toEqual({ balance: 100n, held: 0n });
  });

  it('the idempotency purge counts the expired records it deleted', async () => {
    const idem = app.get(IdempotencyService);
    await db.query(`DELETE FROM idempotency_keys`);
    expect(await idem.purgeExpired()).toBe(0);
    for (const [key, when] of [
      ['old-1', '-1 hour'],
      ['old-2', '-2 hours'],
      ['old-3', '-1 second'],
      ['live', '+1 hour'],
    ]) {
      await db.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, state, expires_at) VALUES ('test', $1, 'h', 'done', now() + $2::interval)`,
        [key, when],
      );
    }
    expect(await idem.purgeExpired()).toBe(3);
    expect(await idem.purgeExpired()).toBe(0);
    expect((await db.query(`SELECT key FROM idempotency_keys`)).map((r: { key: string }) => r.key)).toEqual(['live']);
  });
});

// ---- concurrency ----

describe('under concurrency', () => {
  it('300 concurrent reserve+charge pairs on one wallet that pays for only part of them', async () => {
    const start = 1_500_000n;
    const { ws, account: acc } = await fundedWorkspace(start);
    const r = rng(42);
    const errors: unknown[] = [];
    let refused = 0;
    let served = 0;
    let charged = 0n;
    const checks: string[] = [];

    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const worst = between(r, 5_000, 20_000);
        const capped = r() < 0.3; // the client gave no max_tokens: any grant down to the minimum
        const minimum = capped ? worst / 10n : worst;
        // some costs overrun the hold (an input estimate that was too low), some are zero
        const cost = r() < 0.05 ? 0n : (worst * between(r, 0, 130)) / 100n;
        const wait = Math.floor(r() * 8);
        const reqId = `pair-${i}`;
        let held: Reservation | null;
        try {
          held = await leases.reserve(ws, worst, minimum);
        } catch (e) {
          if (gatewayCode(e) === 'insufficient_balance') refused++;
          else errors.push(e);
          return;
        }
        served++;
        if (held!.amount > worst || held!.amount < minimum)
          checks.push(`${reqId}: granted ${held!.amount} outside [${minimum}, ${worst}]`);
        await pause(wait);
        try {
          const c = leases.finish(held, cost);
          charged += c;
          if (cost <= held!.amount && c !== cost)
            checks.push(`${reqId}: cost ${cost} fits the hold ${held!.amount} but ${c} was charged`);
          if (cost > held!.amount && (c > cost || c < held!.amount))
            checks.push(`${reqId}: cost ${cost} over hold ${held!.amount}, charged ${c}`);
        } catch (e) {
          errors.push(e);
        }
      }),
    );

    expect(unexpected(errors)).toEqual([]);
    expect(checks).toEqual([]);
    expect(refused).toBeGreaterThan(0); // the balance really was short
    expect(served).toBeGreaterThan(50);
    const final = await settled(acc);
    expect(final.held).toBe(0n);
    expect(await holdsOf(acc)).toBe(0);
    expect(final.balance).toBe(start - charged);
    expect(final.balance).toBeGreaterThanOrEqual(0n);
    expect(
      BigInt(
        await one(`SELECT coalesce(sum(-amount), 0)::text FROM ledger_entries WHERE account_id = $1 AND amount < 0`, [
          acc,
        ]),
      ),
    ).toBe(charged);
    await expectLedgerInvariants();
  });

  it('recharges, agent->workspace transfers, spends and sweeps racing on the same wallets', async () => {
    const ag = await agent();
    // the agent's wallet sorts between its two workspaces' wallets, so transfers lock in both orders
    const agentAcc = await one(
      `INSERT INTO accounts (id, type, owner_id, currency) VALUES ('80000000-0000-4000-8000-000000000000', 'agent', $1, 'USD') RETURNING id`,
      [ag],
    );
    const w1 = await workspace(ag);
    const w2 = await workspace(ag);
    const acc1 = await one(
      `INSERT INTO accounts (id, type, owner_id, currency) VALUES ('10000000-0000-4000-8000-000000000000', 'workspace', $1, 'USD') RETURNING id`,
      [w1],
    );
    const acc2 = await one(
      `INSERT INTO accounts (id, type, owner_id, currency) VALUES ('f0000000-0000-4000-8000-000000000000', 'workspace', $1, 'USD') RETURNING id`,
      [w2],
    );
    const start = { agent: 200_000n, w1: 50_000n, w2: 50_000n };
    await wallets.credit({ type: 'agent', id: ag }, start.agent, { actorId: ACTOR, reference: null });
    await wallets.credit({ type: 'workspace', id: w1 }, start.w1, { actorId: ACTOR, reference: null });
    await wallets.credit({ type: 'workspace', id: w2 }, start.w2, { actorId: ACTOR, reference: null });

    const r = rng(7);
    const errors: unknown[] = [];
    const moved = {
      credits: { agent: 0n, w1: 0n, w2: 0n },
      transfers: { w1: 0n, w2: 0n },
      charged: { w1: 0n, w2: 0n },
    };
    let transfersRefused = 0;
    let spendsRefused = 0;
    const wsOf = { w1, w2 } as const;
    const ops: Array<() => Promise<void>> = [];

    for (let i = 0; i < 150; i++) {
      const which = r() < 0.5 ? 'w1' : 'w2';
      const worst = between(r, 1_000, 6_000);
      const cost = (worst * between(r, 0, 120)) / 100n;
      ops.push(async () => {
        let held: Reservation | null;
        try {
          held = await leases.reserve(wsOf[which], worst, worst);
        } catch (e) {
          if (gatewayCode(e) === 'insufficient_balance') spendsRefused++;
          else errors.push(e);
          return;
        }
        await pause(Math.floor(r() * 10));
        moved.charged[which] += leases.finish(held, cost);
      });
    }
    for (let i = 0; i < 60; i++) {
      const which = r() < 0.5 ? 'w1' : 'w2';
      const amount = between(r, 1_000, 8_000);
      ops.push(async () => {
        try {
          await wallets.transfer(ag, wsOf[which], amount, { actorId: ACTOR, reference: `mix-transfer-${i}` });
          moved.transfers[which] += amount;
        } catch (e) {
          if (gatewayCode(e) === 'insufficient_balance') transfersRefused++;
          else throw e;
        }
      });
    }
    for (let i = 0; i < 45; i++) {
      const target = (['agent', 'w1', 'w2'] as const)[i % 3];
      const amount = between(r, 500, 3_000);
      ops.push(async () => {
        await wallets.credit(
          target === 'agent' ? { type: 'agent', id: ag } : { type: 'workspace', id: wsOf[target] },
          amount,
          {
            actorId: ACTOR,
            reference: `mix-credit-${i}`,
          },
        );
        moved.credits[target] += amount;
      });
    }
    for (let i = 0; i < 15; i++) ops.push(async () => void (await wallets.sweepExpiredHolds()));
    // shuffle, then start everything at once
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [ops[i], ops[j]] = [ops[j], ops[i]];
    }
    await Promise.all(ops.map((op) => op().catch((e: unknown) => void errors.push(e))));

    // every lease posted and released
    await settled(acc1);
    await settled(acc2);
    expect(unexpected(errors)).toEqual([]);
    expect(spendsRefused + transfersRefused).toBeGreaterThan(0);
    expect(await account(agentAcc)).toEqual({
      balance: start.agent + moved.credits.agent - moved.transfers.w1 - moved.transfers.w2,
      held: 0n,
    });
    expect(await account(acc1)).toEqual({
      balance: start.w1 + moved.credits.w1 + moved.transfers.w1 - moved.charged.w1,
      held: 0n,
    });
    expect(await account(acc2)).toEqual({
      balance: start.w2 + moved.credits.w2 + moved.transfers.w2 - moved.charged.w2,
      held: 0n,
    });
    expect(await holdsOf(acc1)).toBe(0);
    expect(await holdsOf(acc2)).toBe(0);
    await expectLedgerInvariants();
  });

  it('50 concurrent transfers never overdraw the agent wallet: the short ones get 402', async () => {
    const ag = await agent();
    await db.query(
      `INSERT INTO accounts (id, type, owner_id, currency) VALUES ('80000000-0000-4000-8000-0000000000aa', 'agent', $1, 'USD')`,
      [ag],
    );
    const lo = await workspace(ag);
    const hi = await workspace(ag);
    await db.query(
      `INSERT INTO accounts (id, type, owner_id, currency) VALUES ('00000000-0000-4000-8000-0000000000aa', 'workspace', $1, 'USD')`,
      [lo],
    );
    await db.query(
      `INSERT INTO accounts (id, type, owner_id, currency) VALUES ('ffffffff-0000-4000-8000-0000000000aa', 'workspace', $1, 'USD')`,
      [hi],
    );
    await wallets.credit({ type: 'agent', id: ag }, parseAmount('10.00'), { actorId: ACTOR, reference: null });

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        wallets.transfer(ag, i % 2 ? lo : hi, parseAmount('0.50'), { actorId: ACTOR, reference: null }),
      ),
    );
    const ok = results.filter((x) => x.status === 'fulfilled');
    const refused = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
    expect(ok).toHaveLength(20);
    expect(refused).toHaveLength(30);
    for (const x of refused)
      expect(x.reason).toMatchObject({ code: 'insufficient_balance', status: 402, param: 'amount' });
    expect(await wallets.view({ type: 'agent', id: ag })).toMatchObject({
      balance: '0.00',
      held: '0.00',
      available: '0.00',
    });
    const lw = await wallets.view({ type: 'workspace', id: lo });
    const hw = await wallets.view({ type: 'workspace', id: hi });
    expect(parseAmount(lw.balance) + parseAmount(hw.balance)).toBe(parseAmount('10.00'));
    await expectLedgerInvariants();
  });

  it('a suspended agent wallet cannot transfer', async () => {
    const ag = await agent();
    const ws = await workspace(ag);
    await wallets.credit({ type: 'agent', id: ag }, 1_000n, { actorId: ACTOR, reference: null });
    await wallets.setStatus({ type: 'agent', id: ag }, 'suspended');
    await expect(wallets.transfer(ag, ws, 10n, { actorId: ACTOR, reference: null })).rejects.toMatchObject({
      code: 'wallet_suspended',
    });
    expect(await wallets.view({ type: 'workspace', id: ws })).toMatchObject({ balance: '0.00' });
  });

  it('a recharge with a reference happens once however many times it races', async () => {
    const { ws, account: acc } = await fundedWorkspace(0n);
    const ids = await Promise.all(
      Array.from({ length: 20 }, () =>
        wallets.credit({ type: 'workspace', id: ws }, 1_000n, { actorId: ACTOR, reference: 'idem:once' }),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 0n });
    await expectLedgerInvariants();
  });

  it('a reference used again for another amount or wallet is refused (409), the same movement replays', async () => {
    const ag = await agent();
    const [w1, w2] = [await workspace(ag), await workspace(ag)];
    const credit = (ws: string, amount: bigint) =>
      wallets.credit({ type: 'workspace', id: ws }, amount, { actorId: ACTOR, reference: 'idem:admin:reused' });
    const id = await credit(w1, 1_000n);
    expect(await credit(w1, 1_000n)).toBe(id);
    for (const [ws, amount] of [
      [w1, 2_000n],
      [w2, 1_000n],
    ] as const)
      await expect(credit(ws, amount)).rejects.toMatchObject({ code: 'idempotency_key_reused', status: 409 });
    // an agent's transfers: the same rule
    await wallets.credit({ type: 'agent', id: ag }, 10_000n, { actorId: ACTOR, reference: null });
    const transfer = (ws: string, amount: bigint) =>
      wallets.transfer(ag, ws, amount, { actorId: ACTOR, reference: 'idem:agent:reused' });
    const t = await transfer(w1, 500n);
    expect(await transfer(w1, 500n)).toBe(t);
    await expect(transfer(w1, 700n)).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    await expect(transfer(w2, 500n)).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    expect(await wallets.view({ type: 'workspace', id: w1 })).toMatchObject({ balance: '0.000001500' });
    expect(await wallets.view({ type: 'workspace', id: w2 })).toMatchObject({ balance: '0.00' });
    await expectLedgerInvariants();
  });
});
