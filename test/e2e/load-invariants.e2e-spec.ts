// The money invariants under load, through the whole app: hundreds of concurrent /v1 requests (plain
// and streamed, n choices, upstreams that count more input tokens than the gateway estimated, clients
// vanishing mid-stream, upstreams failing) against a wallet that pays for only part of them, and
// recharges racing with spends. Afterwards the ledger must be whole: no wallet ever below zero, every
// transaction balanced, no hold left, and per wallet what the ledger posted for usage equal to what the
// usage log (and each response) said was charged.
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import {
  catalogPrices,
  catalogWith,
  eventually,
  holdsOf,
  ledgerViolations,
  nanos,
  postChat,
  streamChat,
  tokenCost,
  usageMismatches,
  usageRows,
  UsageLogRow,
  walletOf,
} from './helpers/money';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

jest.setTimeout(60_000);

// A model whose only provider always fails, and which has no fallback.
const CATALOG = catalogWith({
  providers: [
    {
      id: 'down',
      kind: 'openai',
      base_url: '${DEMO_UPSTREAM_URL}/_k/status=503/v1',
      api_key: '${OPENAI_API_KEY}',
      timeout_ms: 10000,
    },
  ],
  models: [
    {
      id: 'down-only',
      kind: 'chat',
      owned_by: 'openai',
      capabilities: { context_length: 128000, max_output_tokens: 4096 },
      price: { input_per_mtok: '0.15', output_per_mtok: '0.60' },
      routes: [{ provider: 'down', model: 'gpt-4o-mini' }],
    },
  ],
});
const PRICES = catalogPrices(CATALOG);

type Kind =
  | 'plain'
  | 'plain-uncapped'
  | 'plain-n'
  | 'overcount'
  | 'stream'
  | 'stream-uncapped'
  | 'stream-n'
  | 'stream-overcount'
  | 'vanish'
  | 'fail-directive'
  | 'fail-provider';

/** Kinds whose upstream reports more input than the estimate: a charge beyond the reservation, capped by the lease. */
const OVERCOUNT = new Set<Kind>(['overcount', 'stream-overcount']);
/** prompt tokens those upstreams report: far above the estimate of a one-line prompt */
const OVERCOUNTED_PROMPT = 900;

interface Outcome {
  kind: Kind;
  status: number;
  requestId: string | null;
  /** what the response said was charged (x-credits-used, or usage.cost of a stream) */
  charged?: bigint;
  /** the exact cost of the usage the response reported, at catalog prices */
  expected?: bigint;
  code?: string;
}

/** A fixed permutation: i -> i * 7919 mod n (7919 is prime, so coprime to any n it does not divide). */
function interleave<T>(xs: T[]): T[] {
  return xs.map((_, i) => xs[(i * 7919) % xs.length]);
}

describe('money invariants under load', () => {
  let stack: TestStack;
  let admin: AdminClient;

  beforeAll(async () => {
    stack = await startStack({ catalogFile: CATALOG, env: { DATABASE_POOL_SIZE: '20' } });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => stack?.close());

  const ask = (text: string, extra: Record<string, unknown> = {}) => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: text }],
    ...extra,
  });

  /** One request of the mix; never throws (the outcome says what happened). */
  async function one(t: Tenant, kind: Kind, i: number): Promise<Outcome> {
    const words = 20 + (i % 40);
    switch (kind) {
      case 'plain':
      case 'plain-uncapped':
      case 'plain-n':
      case 'overcount': {
        const extra: Record<string, unknown> = {
          plain: { max_tokens: 150, model: i % 3 ? 'gpt-4o-mini' : 'deepseek-v3.2' },
          'plain-uncapped': {},
          'plain-n': { max_tokens: 60, n: 2 + (i % 3) },
          overcount: { max_tokens: 100 },
        }[kind];
        const knobs = kind === 'overcount' ? `, prompt_tokens=${OVERCOUNTED_PROMPT}` : '';
        const r = await postChat(stack.url, t.key, ask(`Plain ${i} [[demo: tokens=${words}${knobs}]]`, extra));
        const out: Outcome = {
          kind,
          status: r.status,
          requestId: r.headers.get('x-request-id'),
          code: r.body?.error?.code,
        };
        if (r.status === 200) {
          out.charged = nanos(r.headers.get('x-credits-used')!);
          out.expected = tokenCost(PRICES.get(r.headers.get('x-model-used') ?? r.body.model)!, r.body.usage);
          if (kind === 'plain-n') expect(r.body.usage.completion_tokens).toBe(words * (extra.n as number));
          if (kind === 'overcount') expect(r.body.usage.prompt_tokens).toBe(OVERCOUNTED_PROMPT);
        }
        return out;
      }
      case 'stream':
      case 'stream-uncapped':
      case 'stream-n':
      case 'stream-overcount': {
        const extra: Record<string, unknown> = {
          stream: { max_tokens: 150 },
          'stream-uncapped': {},
          'stream-n': { max_tokens: 60, n: 2 },
          'stream-overcount': { max_tokens: 100 },
        }[kind];
        const knobs = kind === 'stream-overcount' ? `, prompt_tokens=${OVERCOUNTED_PROMPT}` : '';
        const s = await streamChat(
          stack.url,
          t.key,
          ask(`Streamed ${i} [[demo: tokens=${words}, tps=400${knobs}]]`, {
            stream_options: { include_usage: true },
            ...extra,
          }),
        );
        const out: Outcome = {
          kind,
          status: s.status,
          requestId: s.headers.get('x-request-id'),
          code: s.body?.error?.code,
        };
        if (s.status === 200) {
          const usage = s.events.find((e) => e.usage && e.choices.length === 0)?.usage;
          if (!usage) throw new Error(`stream ${i} ended without its usage chunk`);
          out.charged = nanos(usage.cost);
          out.expected = tokenCost(PRICES.get('gpt-4o-mini')!, usage);
        }
        return out;
      }
      case 'vanish': {
        const s = await streamChat(
          stack.url,
          t.key,
          ask(`Vanishing ${i} [[demo: tokens=300, tps=100]]`, { max_tokens: 300 }),
          { abortAfter: 3 + (i % 5) },
        );
        return {
          kind,
          status: s.aborted ? 499 : s.status,
          requestId: s.headers.get('x-request-id'),
          code: s.body?.error?.code,
        };
      }
      case 'fail-directive': {
        // gpt-4o-mini's fallback (deepseek-v3.2) reads the same directive: every route fails
        const r = await postChat(
          stack.url,
          t.key,
          ask(`Failing ${i} [[demo: status=503]]`, { max_tokens: 100, ...(i % 2 ? { stream: true } : {}) }),
        );
        return { kind, status: r.status, requestId: r.headers.get('x-request-id'), code: r.body?.error?.code };
      }
      case 'fail-provider': {
        const r = await postChat(stack.url, t.key, ask(`Down ${i}`, { model: 'down-only', max_tokens: 100 }));
        return { kind, status: r.status, requestId: r.headers.get('x-request-id'), code: r.body?.error?.code };
      }
    }
  }

  // interleaved (a fixed permutation), so that every kind arrives while the wallet still pays for some
  const MIX: Kind[] = interleave([
    ...Array<Kind>(70).fill('plain'),
    ...Array<Kind>(70).fill('stream'),
    ...Array<Kind>(40).fill('vanish'),
    ...Array<Kind>(25).fill('fail-directive'),
    ...Array<Kind>(15).fill('fail-provider'),
    ...Array<Kind>(5).fill('plain-uncapped'),
    ...Array<Kind>(5).fill('stream-uncapped'),
    ...Array<Kind>(15).fill('plain-n'),
    ...Array<Kind>(10).fill('stream-n'),
    ...Array<Kind>(10).fill('overcount'),
    ...Array<Kind>(5).fill('stream-overcount'),
  ]);

  /** The workspace's usage rows once the log has all `n` of them (the writer flushes on a timer). */
  async function allUsage(workspaceId: string, n: number): Promise<UsageLogRow[]> {
    let rows: UsageLogRow[] = [];
    await eventually(
      async () => (rows = await usageRows(stack.db, workspaceId)).length >= n,
      15_000,
      `${n} usage rows`,
    );
    return rows;
  }

  /** Every lease of the wallet posted and released: a spent lease sits at amount 0 until it is idle. */
  async function released(t: Tenant): Promise<void> {
    await eventually(
      async () => {
        const w = await walletOf(stack.db, 'workspace', t.workspace.id);
        return w.held === 0n && (await holdsOf(stack.db, w.id)) === 0;
      },
      10_000,
      'every lease settled and released',
    );
  }

  async function expectWhole(t: Tenant, start: bigint, moved: bigint, rows: UsageLogRow[]): Promise<void> {
    const w = await walletOf(stack.db, 'workspace', t.workspace.id);
    const logged = rows.reduce((s, r) => s + r.cost, 0n);
    expect(w.held).toBe(0n);
    expect(await stack.db.query(`SELECT id, account_id, amount::text FROM holds`)).toEqual([]);
    expect(w.balance).toBeGreaterThanOrEqual(0n);
    expect(w.balance).toBe(start + moved - logged);
    expect(await ledgerViolations(stack.db)).toEqual([]);
    // per wallet, the ledger's usage postings are the sum of the usage log's costs, charge for charge
    expect(await usageMismatches(stack.db)).toEqual([]);
  }

  it(`${MIX.length} concurrent mixed requests against a wallet that pays for only part of them`, async () => {
    const t = await createTenant(admin, { credit: '0.003', key: { rpm: 100000 } });
    const start = (await walletOf(stack.db, 'workspace', t.workspace.id)).balance;
    const outcomes = await Promise.all(MIX.map((kind, i) => one(t, kind, i)));

    const by = (k: (o: Outcome) => boolean) => outcomes.filter(k);
    const served = by((o) => o.status === 200);
    const refused = by((o) => o.status === 402);
    // every request got an answer the contract allows, and the mix really was mixed
    expect(by((o) => ![200, 402, 499, 502].includes(o.status)).map((o) => `${o.kind} ${o.status} ${o.code}`)).toEqual(
      [],
    );
    for (const o of refused) expect(o.code).toBe('insufficient_balance');
    for (const o of by((o) => o.status === 502)) expect(o.code).toBe('upstream_error');
    expect(served.length).toBeGreaterThan(20);
    expect(refused.length).toBeGreaterThan(20);
    expect(by((o) => o.status === 499).length).toBeGreaterThan(0);
    expect(by((o) => o.status === 502).length).toBeGreaterThan(0);
    // what each answer said it cost is the exact cost of its usage; beyond its reservation (the upstream
    // counted more input than estimated), at most that, as far as the lease's free funds went
    for (const o of served.filter((x) => !OVERCOUNT.has(x.kind)))
      expect({ kind: o.kind, charged: o.charged }).toEqual({ kind: o.kind, charged: o.expected });
    for (const o of served.filter((x) => OVERCOUNT.has(x.kind))) {
      expect(o.charged).toBeGreaterThan(0n);
      expect(o.charged).toBeLessThanOrEqual(o.expected!);
    }
    for (const k of ['plain-n', 'stream-n', 'overcount', 'stream-overcount'] as Kind[])
      expect({ k, served: served.some((o) => o.kind === k) }).toEqual({ k, served: true });

    const rows = await allUsage(t.workspace.id, MIX.length);
    expect(rows).toHaveLength(MIX.length);
    const byId = new Map(rows.map((r) => [r.request_id, r]));
    for (const o of served) expect(byId.get(o.requestId!)?.cost).toBe(o.charged);
    for (const r of rows) {
      if (r.status === 402 || r.status === 502)
        expect({ status: r.status, cost: r.cost }).toEqual({ status: r.status, cost: 0n });
    }
    const vanished = rows.filter((r) => r.status === 499);
    expect(vanished.length).toBe(by((o) => o.status === 499).length);
    for (const r of vanished) {
      expect(r.output_tokens).toBeGreaterThan(0);
      expect(r.cost).toBeGreaterThan(0n);
      expect(r.cost).toBe(
        tokenCost(PRICES.get('gpt-4o-mini')!, { prompt_tokens: r.input_tokens, completion_tokens: r.output_tokens }),
      );
    }

    await released(t);
    await expectWhole(t, start, 0n, rows);
    // the wallet paid for what it could: most of it is spent
    expect((await walletOf(stack.db, 'workspace', t.workspace.id)).balance).toBeLessThan(start / 2n);
  });

  it('recharges, agent transfers and spends racing on one wallet keep the ledger whole', async () => {
    const t = await createTenant(admin, { credit: '0.001', key: { rpm: 100000 }, agentCredit: '0.0005' });
    const start = (await walletOf(stack.db, 'workspace', t.workspace.id)).balance;
    const agentStart = (await walletOf(stack.db, 'agent', t.agent.id)).balance;
    const path = `/admin/api/workspaces/${t.workspace.id}/wallet/recharges`;
    let recharged = 0n;
    let transferred = 0n;
    let transfersRefused = 0;

    const spends = Array.from({ length: 120 }, (_, i) =>
      one(t, (['plain', 'stream', 'vanish', 'plain'] as const)[i % 4], i),
    );
    const recharges = Array.from({ length: 30 }, async (_, i) => {
      const amount = `0.0000${10 + i}`; // 10,000 to 39,000 nanos
      const r = await admin.post(path, { amount, note: `load ${i}` }, { 'Idempotency-Key': `load-recharge-${i}` });
      expect(r.status).toBe(201);
      recharged += nanos(amount);
    });
    const transfers = Array.from({ length: 30 }, async (_, i) => {
      const amount = '0.00003'; // the agent pays for 16 of these 30
      const r = await t.agent.client.post(path, { amount }, { 'Idempotency-Key': `load-transfer-${i}` });
      if (r.status === 201) transferred += nanos(amount);
      else {
        expect(r.status).toBe(402);
        expect((r.body as any).error.code).toBe('insufficient_balance');
        transfersRefused++;
      }
    });
    const outcomes = await Promise.all([...spends, ...recharges, ...transfers].map((p) => p));
    expect(
      outcomes.filter((o) => o && typeof o === 'object' && ![200, 402, 499].includes((o as Outcome).status)),
    ).toEqual([]);
    expect(transferred).toBe(16n * 30_000n);
    expect(transfersRefused).toBe(14);

    const rows = await allUsage(t.workspace.id, spends.length);
    await released(t);
    await expectWhole(t, start, recharged + transferred, rows);
    expect(await walletOf(stack.db, 'agent', t.agent.id)).toMatchObject({
      balance: agentStart - transferred,
      held: 0n,
    });
  });
});
