// Wallet leases when Postgres goes away (DESIGN.md "When a dependency fails": no request without its
// hold). A process keeps serving from a lease it was already granted only while its charges reach the
// ledger; once a charge has waited past the bound, new requests get 503 service_unavailable with
// Retry-After, fast, until posting works again. Postgres is cut with a TCP proxy in front of it.
import { randomBytes, randomUUID } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { CoreModule, GatewayError, createLogger, loadConfig } from '@switchyard/core';
import { LedgerRepository, Reservation, WalletLeasesService, WalletsModule, WalletsService } from '@switchyard/wallets';
import { PG_BASE, freshDatabase } from '../../setup/test-db';
import { TcpProxy } from '../../helpers/tcp-proxy';
import { expectLedgerInvariantsIn } from './ledger-invariants';

jest.setTimeout(60_000);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wallet leases when Postgres goes away', () => {
  let database: { url: string; drop: () => Promise<void> };
  let proxy: TcpProxy;
  let ctx: TestingModule;
  let db: DataSource; // straight to Postgres: setup and checks
  const flushMs = 50;

  beforeAll(async () => {
    database = await freshDatabase();
    const real = new URL(PG_BASE);
    proxy = new TcpProxy(real.hostname, Number(real.port || 5432));
    await proxy.start();
    const via = new URL(database.url);
    via.hostname = '127.0.0.1';
    via.port = String(proxy.port);
    const config = loadConfig({
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: via.href,
      REDIS_PREFIX: `sy:test:${randomBytes(4).toString('hex')}:`,
      LEASE_FLUSH_MS: String(flushMs),
      LEASE_IDLE_MS: '3600000',
    });
    ctx = await Test.createTestingModule({
      imports: [CoreModule.forRoot({ config, logger: createLogger('silent') }), WalletsModule],
    }).compile();
    await ctx.init();
    db = new DataSource({ type: 'postgres', url: database.url, extra: { max: 2 } });
    await db.initialize();
  });

  afterAll(async () => {
    proxy?.restore();
    await ctx?.close().catch(() => undefined);
    await db?.destroy();
    await proxy?.close();
    await database?.drop();
  });

  it('serves from the lease for a bounded time, then 503 with Retry-After, and resumes once posting works', async () => {
    const leases = ctx.get(WalletLeasesService);
    const [ag] = (await db.query(`INSERT INTO agents (name) VALUES ('a') RETURNING id`)) as Array<{ id: string }>;
    const [w] = (await db.query(`INSERT INTO workspaces (agent_id, name) VALUES ($1, 'w') RETURNING id`, [
      ag.id,
    ])) as Array<{ id: string }>;
    const start = 1_000_000_000n;
    await ctx
      .get(WalletsService)
      .credit({ type: 'workspace', id: w.id }, start, { actorId: randomUUID(), reference: null });
    const account = await ctx.get(LedgerRepository).ensureWallet('workspace', w.id, 'USD');
    let told = 0n;
    const request = async (): Promise<'served' | GatewayError> => {
      let r: Reservation | null;
      try {
        r = await leases.reserve(w.id, 1_000n, 1_000n);
      } catch (e) {
        if (e instanceof GatewayError) return e;
        throw e;
      }
      told += leases.finish(r, 10n); // the lease (16 worst cases) would last for 1,600 of these
      return 'served';
    };

    expect(await request()).toBe('served'); // the lease is granted while Postgres is there

    proxy.cut();
    const cutAt = Date.now();
    const outcomes: Array<{ at: number; ms: number; served: boolean }> = [];
    let refusal: GatewayError | undefined;
    while (Date.now() - cutAt < 3_500) {
      const t = Date.now();
      const r = await request();
      outcomes.push({ at: t - cutAt, ms: Date.now() - t, served: r === 'served' });
      if (r !== 'served') refusal = r;
      await pause(50);
    }
    // at first, requests are served from the lease already granted (no round trip needed)...
    expect(outcomes.filter((o) => o.at < 1_500).every((o) => o.served)).toBe(true);
    // ...but once charges have waited past the bound (2 s here), every new request is refused, fast
    const refused = outcomes.filter((o) => !o.served);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0].at).toBeLessThan(3_000);
    expect(outcomes.filter((o) => o.at > refused[0].at).every((o) => !o.served)).toBe(true);
    expect(Math.max(...refused.map((o) => o.ms))).toBeLessThan(200);
    expect(refusal).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(refusal!.headers['Retry-After']).toMatch(/^[1-9]\d*$/);

    // Postgres is back: the charges made meanwhile are posted, and requests are served again
    proxy.restore();
    const backAt = Date.now();
    let back: 'served' | GatewayError = refusal!;
    while (back !== 'served' && Date.now() - backAt < 10_000) {
      await pause(100);
      back = await request();
    }
    expect(back).toBe('served');

    await leases.flush();
    let wallet = { balance: '', held: '' };
    for (let i = 0; i < 100; i++) {
      [wallet] = (await db.query(`SELECT balance::text, held::text FROM accounts WHERE id = $1`, [account])) as Array<{
        balance: string;
        held: string;
      }>;
      const pending = leases.snapshot().reduce((s, l) => s + l.pending, 0n);
      if (pending === 0n) break;
      await pause(50);
    }
    // every charge a request was told about reached the ledger, once
    expect(start - BigInt(wallet.balance)).toBe(told);
    await expectLedgerInvariantsIn(db);
  });
});
