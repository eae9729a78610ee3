// The money rules of DESIGN.md "Money", proved on real Postgres: the database itself refuses what the
// ledger must never hold (unbalanced transactions, edited entries, negative wallets), holds and
// settlement charge exactly what they should, and the invariants survive heavy concurrency.
import { randomBytes, randomUUID } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CoreModule, GatewayError, IdempotencyService, createLogger, loadConfig, parseAmount } from '@switchyard/core';
import { HeldFunds, LedgerRepository, WalletsModule, WalletsService } from '@switchyard/wallets';
import { freshDatabase } from '../../setup/test-db';
import { expectLedgerInvariantsIn } from './ledger-invariants';

jest.setTimeout(60_000);

// ---- harness ----

let database: { url: string; drop: () => Promise<void> };
let app: TestingModule;
let db: DataSource;
let wallets: WalletsService;
let ledger: LedgerRepository;

beforeAll(async () => {
  database = await freshDatabase();
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '30',
    REDIS_PREFIX: `sy:test:${randomBytes(4).toString('hex')}:`,
  });
  app = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config, logger: createLogger(process.env.SY_TEST_LOG ?? 'silent') }), WalletsModule],
  }).compile();
  await app.init();
  db = app.get(DataSource);
  wallets = app.get(WalletsService);
  ledger = app.get(LedgerRepository);
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

describe('placeHold', () => {
  it('grants min(worst, available) when the available balance covers the minimum', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    const a = await wallets.hold(ws, 600n, 600n, 'req-a');
    expect(a!.amount).toBe(600n);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 600n });
    // 400 left: a request that may be capped (minimum 1) gets what is left, not its worst case
    const b = await wallets.hold(ws, 1_000n, 1n, 'req-b');
    expect(b!.amount).toBe(400n);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 1_000n });
    expect(await one(`SELECT amount::text FROM holds WHERE id = $1`, [b!.holdId])).toBe('400');
    // nothing available: refused even with a minimum of one nano
    await expect(wallets.hold(ws, 10n, 1n, 'req-c')).rejects.toMatchObject({
      code: 'insufficient_balance',
      status: 402,
    });
    expect(await holdsOf(acc)).toBe(2);
  });

  it('refuses when the available balance is below the minimum, even if some is available', async () => {
    const { ws, account: acc } = await fundedWorkspace(500n);
    await expect(wallets.hold(ws, 501n, 501n, 'req-fixed')).rejects.toMatchObject({
      code: 'insufficient_balance',
      status: 402,
    });
    const r = await ledger.placeHold({
      workspaceId: ws,
      holdId: randomUUID(),
      worst: 900n,
      minimum: 501n,
      requestId: 'r',
      ttlMs: 60_000,
    });
    expect(r).toEqual({ granted: null, status: 'active', available: 500n });
    expect(await account(acc)).toEqual({ balance: 500n, held: 0n });
    expect(await holdsOf(acc)).toBe(0);
    // exactly the minimum is enough
    expect((await wallets.hold(ws, 900n, 500n, 'req-exact'))!.amount).toBe(500n);
  });

  it('refuses a suspended wallet and reserves nothing; resumes afterwards', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    await wallets.setStatus({ type: 'workspace', id: ws }, 'suspended');
    await expect(wallets.hold(ws, 10n, 10n, 'req-s')).rejects.toMatchObject({ code: 'wallet_suspended', status: 402 });
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 0n });
    expect(await holdsOf(acc)).toBe(0);
    await wallets.setStatus({ type: 'workspace', id: ws }, 'active');
    expect((await wallets.hold(ws, 10n, 10n, 'req-s2'))!.amount).toBe(10n);
  });

  it('refuses a workspace without a wallet', async () => {
    const ws = await workspace();
    await expect(wallets.hold(ws, 10n, 1n, 'req-none')).rejects.toMatchObject({ code: 'insufficient_balance' });
  });
});

describe('settle', () => {
  const revenue = () => account(ledger.system('revenue'));

  it('charges exactly the cost when it fits in the hold and releases the rest', async () => {
    const { ws, account: acc } = await fundedWorkspace(10_000n);
    const held = (await wallets.hold(ws, 6_000n, 6_000n, 'req-fit'))!;
    const rev0 = (await revenue()).balance;
    const charged = await wallets.settle(held, ws, 2_345n, 'req-fit', { model: 'm' });
    expect(charged).toBe(2_345n);
    expect(await account(acc)).toEqual({ balance: 7_655n, held: 0n });
    expect((await revenue()).balance - rev0).toBe(2_345n);
    expect(await holdsOf(acc)).toBe(0);
    const entries = (await db.query(
      `SELECT e.account_id, e.amount::text AS amount FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
        WHERE t.kind = 'usage' AND t.reference = 'req-fit' ORDER BY e.amount`,
    )) as Array<{ account_id: string; amount: string }>;
    expect(entries).toEqual([
      { account_id: acc, amount: '-2345' },
      { account_id: ledger.system('revenue'), amount: '2345' },
    ]);
  });

  it('releases the whole hold and posts nothing when the cost is zero', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    const held = (await wallets.hold(ws, 800n, 800n, 'req-zero'))!;
    expect(await wallets.settle(held, ws, 0n, 'req-zero', {})).toBe(0n);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 0n });
    expect(await one(`SELECT count(*)::int FROM ledger_transactions WHERE reference = 'req-zero'`)).toBe(0);
  });

  it('charges a cost above the hold only up to the hold plus what is still available', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    const held = (await wallets.hold(ws, 300n, 300n, 'req-over'))!;
    // 300 held + 700 available covers 800
    expect(await wallets.settle(held, ws, 800n, 'req-over', {})).toBe(800n);
    expect(await account(acc)).toEqual({ balance: 200n, held: 0n });

    // now 200: one hold of 100 to settle, another of 50 that stays in flight
    const h1 = (await wallets.hold(ws, 100n, 100n, 'req-over-2'))!;
    const h2 = (await wallets.hold(ws, 50n, 50n, 'req-other'))!;
    expect(await wallets.settle(h1, ws, 10_000n, 'req-over-2', {})).toBe(150n); // 100 held + 50 free; h2's 50 is not touched
    expect(await account(acc)).toEqual({ balance: 50n, held: 50n });
    expect(await wallets.settle(h2, ws, 50n, 'req-other', {})).toBe(50n);
    expect(await account(acc)).toEqual({ balance: 0n, held: 0n });
    await expectLedgerInvariants();
  });

  it('settles a swept hold without it, exactly once per reference', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    const held = (await wallets.hold(ws, 400n, 400n, 'req-swept'))!;
    await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [held.holdId]);
    expect(await wallets.sweepExpiredHolds()).toBeGreaterThanOrEqual(1);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 0n });

    expect(await wallets.settle(held, ws, 250n, 'req-swept', {})).toBe(250n);
    expect(await account(acc)).toEqual({ balance: 750n, held: 0n });
    // the same settlement again (a retry, a second finish): nothing more is charged
    expect(await wallets.settle(held, ws, 250n, 'req-swept', {})).toBe(0n);
    await Promise.all([
      wallets.settle(held, ws, 250n, 'req-swept', {}),
      wallets.settle(held, ws, 250n, 'req-swept', {}),
    ]);
    expect(await account(acc)).toEqual({ balance: 750n, held: 0n });
    expect(
      await one(`SELECT count(*)::int FROM ledger_transactions WHERE kind = 'usage' AND reference = 'req-swept'`),
    ).toBe(1);
  });

  it('settles a hold only once: a second settle of the same hold charges nothing more', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    const held = (await wallets.hold(ws, 400n, 400n, 'req-twice'))!;
    const [a, b] = await Promise.all([
      wallets.settle(held, ws, 300n, 'req-twice', {}),
      wallets.settle(held, ws, 300n, 'req-twice', {}),
    ]);
    expect(a + b).toBe(300n);
    expect(await account(acc)).toEqual({ balance: 700n, held: 0n });
  });
});

describe('sweeper', () => {
  it('releases expired holds and leaves live ones', async () => {
    const { ws, account: acc } = await fundedWorkspace(1_000n);
    const dead = (await wallets.hold(ws, 300n, 300n, 'req-dead'))!;
    const dead2 = (await wallets.hold(ws, 200n, 200n, 'req-dead-2'))!;
    const live = (await wallets.hold(ws, 100n, 100n, 'req-live'))!;
    await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [
      [dead.holdId, dead2.holdId],
    ]);
    expect(await wallets.sweepExpiredHolds()).toBe(2);
    expect(await account(acc)).toEqual({ balance: 1_000n, held: 100n });
    expect(
      (await db.query(`SELECT id FROM holds WHERE account_id = $1`, [acc])).map((r: { id: string }) => r.id),
    ).toEqual([live.holdId]);
    // a hold lives for HOLD_TTL_MS (an hour by default)
    const ttl = Number(
      await one(`SELECT extract(epoch FROM expires_at - created_at)::int FROM holds WHERE id = $1`, [live.holdId]),
    );
    expect(ttl).toBe(3600);
    expect(await wallets.sweepExpiredHolds()).toBe(0);
    expect(await wallets.settle(live, ws, 100n, 'req-live', {})).toBe(100n);
    expect(await account(acc)).toEqual({ balance: 900n, held: 0n });
  });
});

describe('maintenance sweeps report what they did', () => {
  // Both ran DELETE ... RETURNING through TypeORM, which answers [rows, rowCount] for a bare DELETE:
  // the hold sweep crashed on every run (so orphaned holds were never released) and the idempotency
  // purge always reported 2.
  it('the hold sweep counts released holds and runs clean when there are none', async () => {
    await db.query(`UPDATE holds SET expires_at = now() + interval '1 hour'`);
    expect(await wallets.sweepExpiredHolds()).toBe(0);
    const { ws, account: acc } = await fundedWorkspace(100n);
    const h = (await wallets.hold(ws, 60n, 60n, 'req-orphan'))!;
    await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [h.holdId]);
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
  it('300 concurrent hold+settle pairs on one wallet that pays for only part of them', async () => {
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
        let held: HeldFunds | null;
        try {
          held = await wallets.hold(ws, worst, minimum, reqId);
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
          const c = await wallets.settle(held, ws, cost, reqId, {});
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
    const final = await account(acc);
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
      const expire = r() < 0.1; // a few holds outlive their TTL and meet the sweeper
      ops.push(async () => {
        let held: HeldFunds | null;
        try {
          held = await wallets.hold(wsOf[which], worst, worst, `mix-spend-${i}`);
        } catch (e) {
          if (gatewayCode(e) === 'insufficient_balance') spendsRefused++;
          else errors.push(e);
          return;
        }
        if (expire)
          await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = $1`, [held!.holdId]);
        await pause(Math.floor(r() * 10));
        const c = await wallets.settle(held, wsOf[which], cost, `mix-spend-${i}`, {});
        moved.charged[which] += c; // (not `+= await`: that would read the total before the await)
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

    // whatever expired after the last sweep goes back too
    await wallets.sweepExpiredHolds();
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
    // each spend was posted at most once (settled, or charged without its swept hold)
    expect(
      await db.query(
        `SELECT reference FROM ledger_transactions WHERE reference LIKE 'mix-%' GROUP BY kind, reference HAVING count(*) > 1`,
      ),
    ).toEqual([]);
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
});
