// Wallet leases (the /v1 hot path's holds), proved on real Postgres and Redis with two "processes"
// (two Nest contexts sharing the database and the Redis prefix): requests are reserved and charged in
// memory, postings are batched and balanced, a wallet never goes below zero, funds held by one process
// are given back when another runs short, suspension stops every process, a dead process's lease is swept.
import { randomBytes, randomUUID } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { CoreModule, GatewayError, createLogger, loadConfig } from '@switchyard/core';
import {
  LeaseRepository,
  LedgerRepository,
  Reservation,
  WalletLeasesService,
  WalletsModule,
  WalletsService,
} from '@switchyard/wallets';
import { freshDatabase } from '../../setup/test-db';
import { expectLedgerInvariantsIn } from './ledger-invariants';

jest.setTimeout(60_000);

let database: { url: string; drop: () => Promise<void> };
const prefix = `sy:test:${randomBytes(4).toString('hex')}:`;
const contexts: TestingModule[] = [];

async function process_(env: Record<string, string> = {}): Promise<TestingModule> {
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '20',
    REDIS_PREFIX: prefix,
    LEASE_FLUSH_MS: '30',
    LEASE_IDLE_MS: '200',
    ...env,
  });
  const ctx = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config, logger: createLogger('silent') }), WalletsModule],
  }).compile();
  await ctx.init();
  contexts.push(ctx);
  return ctx;
}

let a: TestingModule;
let b: TestingModule;
let db: DataSource;

beforeAll(async () => {
  database = await freshDatabase();
  a = await process_();
  b = await process_();
  db = a.get(DataSource);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await database?.drop();
});

const leases = (c: TestingModule) => c.get(WalletLeasesService);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fundedWorkspace(nanos: bigint): Promise<{ ws: string; account: string }> {
  const [ag] = (await db.query(`INSERT INTO agents (name) VALUES ('a') RETURNING id`)) as Array<{ id: string }>;
  const [w] = (await db.query(`INSERT INTO workspaces (agent_id, name) VALUES ($1, 'w') RETURNING id`, [
    ag.id,
  ])) as Array<{ id: string }>;
  await a
    .get(WalletsService)
    .credit({ type: 'workspace', id: w.id }, nanos, { actorId: randomUUID(), reference: null });
  const account = await a.get(LedgerRepository).ensureWallet('workspace', w.id, 'USD');
  return { ws: w.id, account };
}

async function wallet(account: string): Promise<{ balance: bigint; held: bigint }> {
  const [r] = (await db.query(`SELECT balance::text, held::text FROM accounts WHERE id = $1`, [account])) as Array<{
    balance: string;
    held: string;
  }>;
  return { balance: BigInt(r.balance), held: BigInt(r.held) };
}

/** Until every lease of the wallet is posted and released. */
async function settled(account: string): Promise<{ balance: bigint; held: bigint }> {
  for (let i = 0; i < 100; i++) {
    const w = await wallet(account);
    if (w.held === 0n) return w;
    await pause(50);
  }
  throw new Error('leases were not released');
}

const expectLedgerInvariants = () => expectLedgerInvariantsIn(db);

const code = (e: unknown) => (e instanceof GatewayError ? e.code : String(e));

describe('wallet leases', () => {
  it('serve many requests from one lease without a database round trip each', async () => {
    const { ws, account } = await fundedWorkspace(10_000_000_000n); // 10.00
    const repo = a.get(LeaseRepository);
    const grow = jest.spyOn(repo, 'grow');
    const charge = jest.spyOn(repo, 'charge');
    let charged = 0n;
    for (let i = 0; i < 500; i++) {
      const r = await leases(a).reserve(ws, 100_000n, 100_000n);
      charged += leases(a).finish(r, 12_345n);
    }
    expect(charged).toBe(500n * 12_345n);
    // 500 requests, each with a worst case of 100,000: a lease of 16 worst cases is grown every ~16 requests
    // at most, and charges are posted in a few batches
    expect(grow.mock.calls.length).toBeLessThanOrEqual(500 / 16 + 2);
    expect(charge.mock.calls.length).toBeLessThan(60);
    const w = await settled(account);
    expect(10_000_000_000n - w.balance).toBe(charged);
    await expectLedgerInvariants();
    grow.mockRestore();
    charge.mockRestore();
  });

  it('two processes racing on a wallet that pays for only part of the requests never overspend it', async () => {
    const start = 5_000_000n;
    const { ws, account } = await fundedWorkspace(start);
    let charged = 0n;
    let refused = 0;
    let served = 0;
    const one = async (p: TestingModule, i: number) => {
      let r: Reservation | null;
      try {
        r = await leases(p).reserve(ws, 60_000n, i % 3 === 0 ? 20_000n : 60_000n);
      } catch (e) {
        expect(code(e)).toBe('insufficient_balance');
        refused++;
        return;
      }
      await pause(i % 7);
      served++;
      charged += leases(p).finish(r, BigInt(10_000 + ((i * 7919) % 50_000)), i % 11 === 0);
    };
    await Promise.all(Array.from({ length: 400 }, (_, i) => one(i % 2 ? a : b, i)));
    expect(refused).toBeGreaterThan(0);
    expect(served).toBeGreaterThan(50);
    const w = await settled(account);
    expect(w.balance).toBeGreaterThanOrEqual(0n);
    expect(start - w.balance).toBe(charged);
    expect(charged).toBeLessThanOrEqual(start);
    await expectLedgerInvariants();
  });

  it('funds sitting in another process lease are given back when this one runs short', async () => {
    const { ws, account } = await fundedWorkspace(1_000_000n);
    // process a leases half of what is available (it would like 16 worst cases, the wallet runs low)
    const ra = await leases(a).reserve(ws, 400_000n, 400_000n);
    expect(await wallet(account)).toEqual({ balance: 1_000_000n, held: 500_000n });
    // process b needs 600,000: only with the 100,000 a leased but does not use can it be paid for
    const rb = await leases(b).reserve(ws, 600_000n, 600_000n);
    expect(rb?.amount).toBe(600_000n);
    expect(leases(a).finish(ra, 100_000n)).toBe(100_000n);
    expect(leases(b).finish(rb, 200_000n)).toBe(200_000n);
    const w = await settled(account);
    expect(w.balance).toBe(700_000n);
    await expectLedgerInvariants();
  });

  it('a suspended wallet stops being served by every process at once', async () => {
    const { ws, account } = await fundedWorkspace(1_000_000_000n);
    const r1 = await leases(a).reserve(ws, 1_000n, 1_000n);
    const r2 = await leases(b).reserve(ws, 1_000n, 1_000n);
    await a.get(WalletsService).setStatus({ type: 'workspace', id: ws }, 'suspended');
    await pause(100); // the invalidation reaches process b through Redis
    for (const p of [a, b])
      await expect(leases(p).reserve(ws, 1_000n, 1_000n)).rejects.toMatchObject({ code: 'wallet_suspended' });
    // requests already running finish and are charged
    expect(leases(a).finish(r1, 700n)).toBe(700n);
    expect(leases(b).finish(r2, 300n)).toBe(300n);
    const w = await settled(account);
    expect(w.balance).toBe(1_000_000_000n - 1_000n);
    await a.get(WalletsService).setStatus({ type: 'workspace', id: ws }, 'active');
    const again = await leases(b).reserve(ws, 1_000n, 1_000n);
    expect(again).not.toBeNull();
    leases(b).finish(again, 0n);
  });

  it('a vanished client pays at most its reservation; beyond it, a request may use free lease funds', async () => {
    const { ws, account } = await fundedWorkspace(10_000_000n);
    const r1 = await leases(a).reserve(ws, 1_000n, 1_000n);
    expect(leases(a).finish(r1, 5_000n, true)).toBe(1_000n); // capped: client gone
    const r2 = await leases(a).reserve(ws, 1_000n, 1_000n);
    expect(leases(a).finish(r2, 5_000n)).toBe(5_000n); // the estimate was low: the lease pays the rest
    expect(leases(a).finish(r2, 5_000n)).toBe(0n); // finishing twice charges once
    const w = await settled(account);
    expect(10_000_000n - w.balance).toBe(6_000n);
    await expectLedgerInvariants();
  });

  it('a charge beyond its reservation is paid from the lease, never beyond it, and posts in full', async () => {
    // the lease holds the whole wallet; the second request's estimate was low: 9,000 charged on 8,000 reserved
    const start = 10_000n;
    const { ws, account } = await fundedWorkspace(start);
    const r1 = await leases(a).reserve(ws, 10_000n, 10_000n);
    const c1 = leases(a).finish(r1, 2_000n);
    const r2 = await leases(a).reserve(ws, 8_000n, 8_000n);
    const c2 = leases(a).finish(r2, 9_000n);
    expect([c1, c2]).toEqual([2_000n, 8_000n]); // all the lease had left
    await leases(a).flush();
    const w = await settled(account);
    // what the requests were told they cost is what the ledger took, and the wallet is at zero, not below
    expect(start - w.balance).toBe(c1 + c2);
    expect(w.balance).toBe(0n);
    await expectLedgerInvariants();
  });

  it('charges beyond reservations, in any order, post exactly what each request was told it cost', async () => {
    const start = 3_000_000n;
    const { ws, account } = await fundedWorkspace(start);
    let told = 0n;
    const one = async (i: number) => {
      let r: Reservation | null;
      try {
        r = await leases(i % 2 ? a : b).reserve(ws, 40_000n, 10_000n);
      } catch (e) {
        expect(code(e)).toBe('insufficient_balance');
        return;
      }
      await pause(i % 5);
      // a third of the requests cost up to twice their reservation (the estimate was low)
      const cost = i % 3 === 0 ? r!.amount + BigInt((i * 7919) % 40_000) : BigInt((i * 104_729) % 40_000);
      told += leases(i % 2 ? a : b).finish(r, cost);
    };
    await Promise.all(Array.from({ length: 300 }, (_, i) => one(i)));
    await Promise.all([leases(a).flush(), leases(b).flush()]);
    const w = await settled(account);
    expect(w.balance).toBeGreaterThanOrEqual(0n);
    expect(start - w.balance).toBe(told);
    await expectLedgerInvariants();
  });

  it('posting a charge larger than its lease row takes the whole row and only the rest from the wallet', async () => {
    const { ws, account } = await fundedWorkspace(12_000n);
    const repo = a.get(LeaseRepository);
    const holdId = randomUUID();
    const g = await repo.grow({ workspaceId: ws, holdId, ideal: 10_000n, full: 10_000n, need: 1n, ttlMs: 60_000 });
    expect(g.granted).toBe(10_000n);
    const revenue = a.get(LedgerRepository).system('revenue');
    const posted = await repo.charge(
      [{ holdId, accountId: account, amount: 11_000n }],
      revenue,
      `t:${holdId}`,
      {},
      60_000,
    );
    // 10,000 from the lease, 1,000 of the 2,000 the wallet had available
    expect(posted.get(holdId)).toEqual({ fromLease: 10_000n, loose: 1_000n });
    expect(await wallet(account)).toEqual({ balance: 1_000n, held: 0n });
    // more than is left anywhere: only what is available, the wallet stays at zero
    const again = await repo.charge(
      [{ holdId, accountId: account, amount: 5_000n }],
      revenue,
      `u:${holdId}`,
      {},
      60_000,
    );
    expect(again.get(holdId)).toEqual({ fromLease: 0n, loose: 1_000n });
    expect(await wallet(account)).toEqual({ balance: 0n, held: 0n });
    await repo.release(holdId);
    await expectLedgerInvariants();
  });

  it('a batch posted again under its reference (its commit was not acknowledged) moves no money twice', async () => {
    const { ws, account } = await fundedWorkspace(100_000n);
    const repo = a.get(LeaseRepository);
    const holdId = randomUUID();
    await repo.grow({ workspaceId: ws, holdId, ideal: 50_000n, full: 50_000n, need: 1n, ttlMs: 60_000 });
    const revenue = a.get(LedgerRepository).system('revenue');
    const batch = [{ holdId, accountId: account, amount: 7_000n }];
    const first = await repo.charge(batch, revenue, `batch:${holdId}`, {}, 60_000);
    const retry = await repo.charge(batch, revenue, `batch:${holdId}`, {}, 60_000);
    expect(retry).toEqual(first);
    expect(first.get(holdId)).toEqual({ fromLease: 7_000n, loose: 0n });
    expect(await wallet(account)).toEqual({ balance: 93_000n, held: 43_000n });
    await repo.release(holdId);
    await expectLedgerInvariants();
  });

  it('a process that dies leaves a lease the sweeper returns to the wallet', async () => {
    const dead = await process_({ LEASE_IDLE_MS: '3600000', LEASE_TTL_MS: '5000' });
    const { ws, account } = await fundedWorkspace(1_000_000n);
    const r = await leases(dead).reserve(ws, 100_000n, 100_000n);
    leases(dead).finish(r, 40_000n);
    await leases(dead).flush(); // posted before it "dies"
    const r2 = await leases(dead).reserve(ws, 100_000n, 100_000n);
    leases(dead).finish(r2, 30_000n); // never posted: lost with the process
    // the process dies: no shutdown hooks, no more timers
    (leases(dead) as unknown as { timers: NodeJS.Timeout[] }).timers.forEach(clearInterval);
    expect((await wallet(account)).held).toBeGreaterThan(0n);
    await db.query(`UPDATE holds SET expires_at = now() - interval '1 second' WHERE account_id = $1`, [account]);
    expect(await a.get(WalletsService).sweepExpiredHolds()).toBe(1);
    const w = await wallet(account);
    expect(w).toEqual({ balance: 960_000n, held: 0n });
    await expectLedgerInvariants();
  });
});

describe('wallet leases without Redis messages', () => {
  it('a suspension whose message was lost still stops the lease at the next heartbeat', async () => {
    const p = await process_({ LEASE_TTL_MS: '5000' }); // heartbeat every 1.25 s
    const { ws } = await fundedWorkspace(1_000_000_000n);
    const r = await leases(p).reserve(ws, 1_000n, 1_000n);
    leases(p).finish(r, 100n);
    // suspended behind the processes' backs: no pub/sub message
    await db.query(`UPDATE accounts SET status = 'suspended' WHERE type = 'workspace' AND owner_id = $1`, [ws]);
    expect(await leases(p).reserve(ws, 1_000n, 1_000n)).not.toBeNull(); // still served from the lease...
    await pause(1_600);
    await expect(leases(p).reserve(ws, 1_000n, 1_000n)).rejects.toMatchObject({ code: 'wallet_suspended' }); // ...until the heartbeat
  });
});
