// Billing through the HTTP API with the whole app: exact costs from catalog prices, holds and their
// release, 402s, suspension, a client vanishing mid-stream, recharges and transfers with
// Idempotency-Key, transaction history, and what /v1/usage and /admin/api/usage report.
import Anthropic from '@anthropic-ai/sdk';
import { IdempotencyService } from '@switchyard/core';
import { WalletLeasesService } from '@switchyard/wallets';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import {
  catalogPrices,
  catalogWith,
  contentOf,
  eventually,
  holdsOf,
  ledgerViolations,
  nanos,
  postChat,
  streamChat,
  tokenCost,
  usageRows,
  waitForUsage,
  walletOf,
} from './helpers/money';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

jest.setTimeout(60_000);

// A model whose prices are not whole nanos per token, so that the rounding up of a cost shows.
const CATALOG = catalogWith({
  models: [
    {
      id: 'odd-price',
      kind: 'chat',
      owned_by: 'openai',
      capabilities: { tools: true, json_mode: true, context_length: 128000, max_output_tokens: 4096 },
      price: { input_per_mtok: '0.123456789', cached_input_per_mtok: '0.012345678', output_per_mtok: '1.000000001' },
      routes: [{ provider: 'openai', model: 'gpt-4o-mini' }],
    },
  ],
});
const PRICES = catalogPrices(CATALOG);
const price = (model: string) => {
  const p = PRICES.get(model);
  if (!p) throw new Error(`no price for ${model}`);
  return p;
};

describe('billing through the API', () => {
  let stack: TestStack;
  let admin: AdminClient;

  beforeAll(async () => {
    stack = await startStack({ catalogFile: CATALOG });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  afterAll(() => stack?.close());

  afterEach(async () => {
    // whatever a test did, the ledger stays whole
    expect(await ledgerViolations(stack.db)).toEqual([]);
  });

  // Admin sign-ins are limited to 10 a minute per address: most workspaces share one agent, and only the
  // tests about agents make their own (createTenant signs the new agent in).
  let shared: Tenant['agent'];
  let seq = 0;
  const tenant = async (credit: string, extra: { ownAgent?: boolean; agentCredit?: string } = {}): Promise<Tenant> => {
    if (extra.ownAgent || extra.agentCredit)
      return createTenant(admin, { credit, key: { rpm: 100000 }, agentCredit: extra.agentCredit });
    if (!shared)
      return await createTenant(admin, { credit, key: { rpm: 100000 } }).then((t) => ((shared = t.agent), t));
    const ws = await shared.client.post<{ id: string }>('/admin/api/workspaces', { name: `billing ${++seq}` });
    expect(ws.status).toBe(201);
    if (credit !== '0')
      expect(
        (await admin.post(`/admin/api/workspaces/${ws.body.id}/wallet/recharges`, { amount: credit })).status,
      ).toBe(201);
    const k = await shared.client.post<{ id: string; key: string }>(`/admin/api/workspaces/${ws.body.id}/keys`, {
      name: 'billing',
      rpm: 100000,
    });
    expect(k.status).toBe(201);
    return { agent: shared, workspace: { id: ws.body.id }, key: k.body.key, keyId: k.body.id };
  };
  const wallet = (t: Tenant) => walletOf(stack.db, 'workspace', t.workspace.id);
  /** Settlement runs after the response is sent: wait until no hold of the workspace is left. */
  const settled = async (t: Tenant) => {
    await eventually(async () => (await wallet(t)).held === 0n, 5000, 'settlement');
    return wallet(t);
  };
  const ask = (text: string, extra: Record<string, unknown> = {}) => ({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: text }],
    ...extra,
  });

  describe('costs', () => {
    it('x-credits-used is the exact cost of the usage at catalog prices, and the wallet pays exactly that', async () => {
      const t = await tenant('1.00');
      const before = await wallet(t);
      for (const model of ['gpt-4o-mini', 'deepseek-v3.2', 'claude-haiku-4-5', 'odd-price']) {
        const w0 = await wallet(t);
        const r = await postChat(
          stack.url,
          t.key,
          ask('How much does this cost? [[demo: tokens=37]]', { model, max_tokens: 200 }),
        );
        expect(r.status).toBe(200);
        expect(r.body.usage.completion_tokens).toBe(37);
        const expected = tokenCost(price(model), r.body.usage);
        expect(expected).toBeGreaterThan(0n);
        expect(nanos(r.headers.get('x-credits-used')!)).toBe(expected);
        const w1 = await settled(t);
        expect(w0.balance - w1.balance).toBe(expected);
      }
      // gpt-4o-mini, worked by hand: 0.15 and 0.60 per million tokens are 150 and 600 nanos per token
      const r = await postChat(stack.url, t.key, ask('Hand check [[demo: tokens=10]]', { max_tokens: 50 }));
      const u = r.body.usage;
      expect(nanos(r.headers.get('x-credits-used')!)).toBe(BigInt(u.prompt_tokens) * 150n + 10n * 600n);
      // odd-price: fractions of a nano are rounded up once, on the sum
      const o = await postChat(
        stack.url,
        t.key,
        ask('Odd price [[demo: tokens=3]]', { model: 'odd-price', max_tokens: 50 }),
      );
      const exact = BigInt(o.body.usage.prompt_tokens) * 123_456_789n + 3n * 1_000_000_001n;
      expect(exact % 1_000_000n).not.toBe(0n);
      expect(nanos(o.headers.get('x-credits-used')!)).toBe(exact / 1_000_000n + 1n);

      const rows = await waitForUsage(stack.db, t.workspace.id, 6);
      const after = await settled(t);
      expect(before.balance - after.balance).toBe(rows.reduce((s, x) => s + x.cost, 0n));
      expect(await holdsOf(stack.db, after.id)).toBe(0);
    });

    it('the usage chunk of a stream carries usage.cost, the exact cost charged', async () => {
      const t = await tenant('1.00');
      const w0 = await wallet(t);
      const s = await streamChat(
        stack.url,
        t.key,
        ask('Stream the cost [[demo: tokens=25]]', { max_tokens: 100, stream_options: { include_usage: true } }),
      );
      expect(s.status).toBe(200);
      expect(s.done).toBe(true);
      const usageChunk = s.events.find((e) => e.usage && e.choices.length === 0);
      expect(usageChunk).toBeDefined();
      expect(usageChunk.usage.completion_tokens).toBe(25);
      const expected = tokenCost(price('gpt-4o-mini'), usageChunk.usage);
      expect(nanos(usageChunk.usage.cost)).toBe(expected);
      const rows = await waitForUsage(stack.db, t.workspace.id, 1);
      expect(rows[0]).toMatchObject({ status: 200, stream: true, output_tokens: 25, cost: expected });
      const w1 = await settled(t);
      expect(w0.balance - w1.balance).toBe(expected);
    });

    it('a /v1/messages stream carries its cost in the message_delta usage, and the Anthropic SDK takes it', async () => {
      const t = await tenant('1.00');
      const w0 = await wallet(t);
      const anthropic = new Anthropic({ baseURL: stack.url, apiKey: t.key, maxRetries: 0 });
      const costs: bigint[] = [];
      // an Anthropic upstream (its own events pass through) and an OpenAI one (converted)
      for (const model of ['claude-haiku-4-5', 'gpt-4o-mini']) {
        const stream = anthropic.messages.stream({
          model,
          max_tokens: 100,
          messages: [{ role: 'user', content: 'Stream the cost [[demo: tokens=15]]' }],
        });
        const deltas: Array<{ usage: Record<string, unknown> }> = [];
        for await (const ev of stream) if (ev.type === 'message_delta') deltas.push(ev as never);
        const final = await stream.finalMessage();
        expect(final.usage.output_tokens).toBe(15);
        expect(deltas).toHaveLength(1);
        const cost = nanos(deltas[0].usage.cost as string);
        expect(cost).toBe(tokenCost(price(model), { prompt_tokens: final.usage.input_tokens, completion_tokens: 15 }));
        costs.push(cost);
      }
      const rows = await waitForUsage(stack.db, t.workspace.id, 2);
      expect(rows.map((r) => r.cost)).toEqual(costs);
      expect((await settled(t)).balance).toBe(w0.balance - costs[0] - costs[1]);
    });

    it('two requests that bring the same x-request-id are both charged, and leave no hold behind', async () => {
      const t = await tenant('1.00');
      const w0 = await wallet(t);
      const headers = { 'x-request-id': 'client-chosen-request-id-0001' };
      const a = await postChat(stack.url, t.key, ask('First [[demo: tokens=20]]', { max_tokens: 50 }), headers);
      const b = await postChat(stack.url, t.key, ask('Second [[demo: tokens=30]]', { max_tokens: 50 }), headers);
      expect([a.status, b.status]).toEqual([200, 200]);
      const cost = nanos(a.headers.get('x-credits-used')!) + nanos(b.headers.get('x-credits-used')!);
      const w1 = await settled(t);
      expect(w0.balance - w1.balance).toBe(cost);
      // the ledger posted both charges (from the wallet lease, in batches): they pay for two requests
      const txs = await t.agent.client.get<{ data: Array<{ kind: string; amount: string; requests?: number }> }>(
        `/admin/api/workspaces/${t.workspace.id}/wallet/transactions`,
      );
      const usage = txs.body.data.filter((x) => x.kind === 'usage');
      expect(usage.reduce((n, x) => n + (x.requests ?? 0), 0)).toBe(2);
      expect(usage.reduce((sum, x) => sum - nanos(x.amount), 0n)).toBe(cost);
      const rows = await waitForUsage(stack.db, t.workspace.id, 2);
      expect(rows.map((r) => r.cost).reduce((s, c) => s + c, 0n)).toBe(cost);
    });

    it('Idempotency-Key on /v1: a charged reply goes out even when storing it fails, and a retry is never charged again', async () => {
      const t = await tenant('1.00');
      const idem = stack.app.app.get(IdempotencyService);
      const store = jest.spyOn(idem, 'complete').mockRejectedValueOnce(new Error('the database blinked'));
      const body = ask('Charged once [[demo: tokens=12]]', { max_tokens: 50 });
      const headers = { 'Idempotency-Key': `v1-store-fails-${t.workspace.id}` };
      const first = await postChat(stack.url, t.key, body, headers);
      expect(first.status).toBe(200);
      const cost = nanos(first.headers.get('x-credits-used')!);
      expect(cost).toBeGreaterThan(0n);
      // right away the key is still the first request's (never given up after a charge)...
      const soon = await postChat(stack.url, t.key, body, headers);
      if (soon.status !== 200) expect(soon.body.error.code).toBe('idempotency_in_progress');
      else expect(soon.headers.get('idempotent-replayed')).toBe('true');
      // ...and once the reply is stored again, retries get the first response
      let replay = soon;
      await eventually(
        async () => (replay = await postChat(stack.url, t.key, body, headers)).status === 200,
        10_000,
        'the stored reply',
      );
      store.mockRestore();
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body.id).toBe(first.body.id);
      expect((await settled(t)).balance).toBe(1_000_000_000n - cost);
    });

    it('the balance afterwards is the start minus the usage log costs, over streamed and plain calls', async () => {
      const t = await tenant('0.50');
      const w0 = await wallet(t);
      const credits: bigint[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await postChat(
          stack.url,
          t.key,
          ask(`Plain ${i} [[demo: tokens=${5 + i}]]`, { model: i % 2 ? 'deepseek-v3.2' : 'gpt-4o-mini' }),
        );
        expect(r.status).toBe(200);
        credits.push(nanos(r.headers.get('x-credits-used')!));
        const s = await streamChat(
          stack.url,
          t.key,
          ask(`Streamed ${i} [[demo: tokens=${7 + i}]]`, { stream_options: { include_usage: true } }),
        );
        credits.push(nanos(s.events.find((e) => e.usage && e.choices.length === 0).usage.cost));
      }
      const rows = await waitForUsage(stack.db, t.workspace.id, 8);
      const logged = rows.reduce((s, r) => s + r.cost, 0n);
      expect(logged).toBe(credits.reduce((s, c) => s + c, 0n));
      const w1 = await settled(t);
      expect(w1.balance).toBe(w0.balance - logged);
    });
  });

  describe('holds and refusals', () => {
    it('402 insufficient_balance when the client fixed max_tokens and the worst case exceeds the balance', async () => {
      const t = await tenant('0.001'); // 1,000,000 nanos; 2,000 output tokens of gpt-4o-mini cost 1,200,000
      const sent = stack.upstream.requests.length;
      const r = await postChat(stack.url, t.key, ask('Too expensive', { max_tokens: 2000 }));
      expect(r.status).toBe(402);
      expect(r.body.error).toMatchObject({ code: 'insufficient_balance', type: 'insufficient_balance' });
      const s = await streamChat(stack.url, t.key, ask('Too expensive', { max_completion_tokens: 2000 }));
      expect(s.status).toBe(402);
      expect(s.body.error.code).toBe('insufficient_balance');
      expect(stack.upstream.requests.length).toBe(sent); // no upstream call without a hold
      const w = await wallet(t);
      expect(w).toMatchObject({ balance: 1_000_000n, held: 0n });
      // the same request within the balance goes through
      const ok = await postChat(stack.url, t.key, ask('Affordable [[demo: tokens=5]]', { max_tokens: 1000 }));
      expect(ok.status).toBe(200);
    });

    it('with no max_tokens and a tiny balance, the upstream max_tokens is capped at what the balance pays', async () => {
      const t = await tenant('0.00005'); // 50,000 nanos: well under the 16,384-token worst case
      const start = (await wallet(t)).balance;
      const r = await postChat(stack.url, t.key, ask('Tell me a very long story [[demo: tokens=5000]]'));
      expect(r.status).toBe(200);
      // the cap goes out as max_completion_tokens (OpenAI's reasoning models refuse max_tokens)
      const up = stack.upstream.requests.at(-1)!.body as { max_completion_tokens?: number; max_tokens?: number };
      expect(up.max_tokens).toBeUndefined();
      expect(up.max_completion_tokens).toBeGreaterThanOrEqual(1);
      // the cap is what the balance pays for at the primary's prices (the fallback's bind it further)
      const p = price('gpt-4o-mini');
      const affordable =
        ((start - (BigInt(r.body.usage.prompt_tokens) * p.input) / 1_000_000n) * 1_000_000n) / p.output;
      expect(BigInt(up.max_completion_tokens!)).toBeLessThanOrEqual(affordable);
      expect(up.max_completion_tokens!).toBeGreaterThan(20);
      expect(r.body.choices[0].finish_reason).toBe('length');
      expect(r.body.usage.completion_tokens).toBe(up.max_completion_tokens);
      const cost = tokenCost(p, r.body.usage);
      expect(nanos(r.headers.get('x-credits-used')!)).toBe(cost);
      expect(cost).toBeLessThanOrEqual(start);
      const w = await settled(t);
      expect(w.balance).toBe(start - cost);
      expect(w.balance).toBeGreaterThanOrEqual(0n);
      // what is left does not pay for the input and one token: now even a capped request is refused
      const broke = await postChat(stack.url, t.key, ask('Tell me a very long story [[demo: tokens=5000]]'));
      expect(broke.status).toBe(402);
      expect(broke.body.error.code).toBe('insufficient_balance');

      // streamed the same way, on another small wallet
      const t2 = await tenant('0.00004');
      const left = (await wallet(t2)).balance;
      const s = await streamChat(
        stack.url,
        t2.key,
        ask('Another long story [[demo: tokens=5000]]', { stream_options: { include_usage: true } }),
      );
      expect(s.status).toBe(200);
      const capped = (stack.upstream.requests.at(-1)!.body as { max_completion_tokens?: number })
        .max_completion_tokens!;
      expect(capped).toBeGreaterThanOrEqual(1);
      const usage = s.events.find((e) => e.usage && e.choices.length === 0).usage;
      expect(s.events.some((e) => e.choices?.[0]?.finish_reason === 'length')).toBe(true);
      expect(usage.completion_tokens).toBe(capped);
      expect(nanos(usage.cost)).toBe(tokenCost(p, usage));
      expect(nanos(usage.cost)).toBeLessThanOrEqual(left);
      expect((await settled(t2)).balance).toBe(left - nanos(usage.cost));
    });

    it('n choices: the worst case and the output cap count every choice, and the charge is exact', async () => {
      const t = await tenant('0.001'); // 1,000,000 nanos
      const p = price('gpt-4o-mini');
      // 4 choices of up to 500 tokens: 2,000 output tokens (1,200,000 nanos) are more than the wallet
      const sent = stack.upstream.requests.length;
      const r = await postChat(stack.url, t.key, ask('Four long ones [[demo: tokens=400]]', { n: 4, max_tokens: 500 }));
      expect(r.status).toBe(402);
      expect(r.body.error.code).toBe('insufficient_balance');
      expect(stack.upstream.requests.length).toBe(sent);
      // within the balance: every choice is paid for, exactly
      const ok = await postChat(
        stack.url,
        t.key,
        ask('Three short ones [[demo: tokens=30]]', { n: 3, max_tokens: 100 }),
      );
      expect(ok.status).toBe(200);
      expect(ok.body.choices).toHaveLength(3);
      expect(ok.body.usage.completion_tokens).toBe(90);
      const cost = tokenCost(p, ok.body.usage);
      expect(nanos(ok.headers.get('x-credits-used')!)).toBe(cost);
      expect((await settled(t)).balance).toBe(1_000_000n - cost);

      // no max_tokens on a small wallet: each of the 4 choices gets a quarter of what the balance pays for
      const t2 = await tenant('0.00005');
      const start = (await wallet(t2)).balance;
      const capped = await postChat(stack.url, t2.key, ask('Four stories [[demo: tokens=5000]]', { n: 4 }));
      expect(capped.status).toBe(200);
      const asked = stack.upstream.requests.at(-1)!.body as { max_tokens?: number; max_completion_tokens?: number };
      const perChoice = (asked.max_completion_tokens ?? asked.max_tokens)!;
      expect(perChoice).toBeGreaterThanOrEqual(1);
      expect(capped.body.usage.completion_tokens).toBe(4 * perChoice);
      const c2 = tokenCost(p, capped.body.usage);
      expect(c2).toBeLessThanOrEqual(start);
      expect(nanos(capped.headers.get('x-credits-used')!)).toBe(c2);
      const w = await settled(t2);
      expect(w.balance).toBe(start - c2);
      expect(w.balance).toBeGreaterThanOrEqual(0n);
    });

    it('402 wallet_suspended after suspend, and service again after resume', async () => {
      const t = await tenant('1.00');
      const sus = await t.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/wallet/suspend`);
      expect(sus.status).toBe(200);
      expect(sus.body).toMatchObject({ status: 'suspended' });
      const r = await postChat(stack.url, t.key, ask('Suspended?', { max_tokens: 10 }));
      expect(r.status).toBe(402);
      expect(r.body.error).toMatchObject({ code: 'wallet_suspended', type: 'wallet_suspended' });
      const s = await streamChat(stack.url, t.key, ask('Suspended?'));
      expect(s.status).toBe(402);
      expect(s.body.error.code).toBe('wallet_suspended');
      expect((await wallet(t)).balance).toBe(1_000_000_000n);
      const res = await t.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/wallet/resume`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'active' });
      const ok = await postChat(stack.url, t.key, ask('Back [[demo: tokens=4]]', { max_tokens: 10 }));
      expect(ok.status).toBe(200);
      expect((await settled(t)).balance).toBe(1_000_000_000n - nanos(ok.headers.get('x-credits-used')!));
    });

    it('an upstream failure on every route releases the hold and charges nothing', async () => {
      const t = await tenant('1.00');
      const sent = stack.upstream.requests.length;
      // gpt-4o-mini falls back to deepseek-v3.2; the directive fails both
      const r = await postChat(stack.url, t.key, ask('Fail everywhere [[demo: status=503]]', { max_tokens: 100 }));
      expect(r.status).toBe(502);
      expect(r.body.error.code).toBe('upstream_error');
      const s = await streamChat(stack.url, t.key, ask('Fail everywhere too [[demo: status=503]]'));
      expect(s.status).toBe(502);
      expect(stack.upstream.requests.length - sent).toBe(4); // two routes, twice
      const rows = await waitForUsage(stack.db, t.workspace.id, 2);
      expect(rows.map((x) => [x.status, x.cost])).toEqual([
        [502, 0n],
        [502, 0n],
      ]);
      const w = await settled(t);
      expect(w).toMatchObject({ balance: 1_000_000_000n, held: 0n });
      expect(await holdsOf(stack.db, w.id)).toBe(0);
      expect(await stack.db.query(`SELECT 1 FROM ledger_entries WHERE account_id = $1 AND amount < 0`, [w.id])).toEqual(
        [],
      );
    });

    it('a client that vanishes mid-stream pays for the tokens produced, no more than its hold, and leaves no hold', async () => {
      const t = await tenant('1.00');
      const start = (await wallet(t)).balance;
      const leases = stack.app.app.get(WalletLeasesService);
      // the request's own reservation: the only request of this workspace in flight (the lease holds more)
      let reserved = 0n;
      let leased = 0n;
      const prompt = 'A slow story [[demo: tokens=400, tps=50]]';
      const s = await streamChat(stack.url, t.key, ask(prompt, { max_tokens: 400 }), {
        abortAfter: 6,
        onChunk: (n) => {
          const l = leases.snapshot().find((x) => x.workspaceId === t.workspace.id && !x.retired);
          if (n === 2 && l) [reserved, leased] = [l.reserved, l.amount];
        },
      });
      expect(s.aborted).toBe(true);
      // its worst case, by hand: a token per byte of the prompt plus framing, and all 400 output tokens,
      // at the dearer of gpt-4o-mini and its fallback
      const tokens = { prompt_tokens: Buffer.byteLength(prompt) + 7, completion_tokens: 400 };
      const [a, b] = ['gpt-4o-mini', 'deepseek-v3.2'].map((m) => tokenCost(price(m), tokens));
      expect(reserved).toBe(a > b ? a : b);
      expect(leased).toBeGreaterThan(reserved);
      const rows = await waitForUsage(stack.db, t.workspace.id, 1);
      const row = rows[0];
      expect(row.status).toBe(499);
      expect(row.output_tokens).toBeGreaterThan(0);
      expect(row.output_tokens).toBeLessThan(400);
      expect(row.cost).toBeGreaterThan(0n);
      expect(row.cost).toBeLessThanOrEqual(reserved);
      expect(row.cost).toBe(
        tokenCost(price('gpt-4o-mini'), { prompt_tokens: row.input_tokens, completion_tokens: row.output_tokens }),
      );
      // the upstream request was cut off too
      await eventually(async () => stack.upstream.requests.at(-1)!.aborted, 3000, 'upstream aborted');
      const w = await settled(t);
      expect(w.held).toBe(0n);
      expect(await holdsOf(stack.db, w.id)).toBe(0);
      expect(w.balance).toBe(start - row.cost);
      expect(contentOf(s.events).length).toBeGreaterThan(0);
    });
  });

  describe('recharges', () => {
    it('a platform admin credits a workspace', async () => {
      const t = await tenant('0');
      const r = await admin.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, {
        amount: '12.34',
        note: 'invoice 7',
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        transaction_id: expect.any(String),
        wallet: { balance: '12.34', held: '0.00', available: '12.34', status: 'active' },
      });
      expect((await wallet(t)).balance).toBe(12_340_000_000n);
      const bad = await admin.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, { amount: '-1.00' });
      expect(bad.status).toBe(400);
      expect((await wallet(t)).balance).toBe(12_340_000_000n);
    });

    it('an agent recharges its workspace by transfer from its own wallet, and gets 402 when short', async () => {
      const t = await tenant('0', { agentCredit: '3.00' });
      const agentWallet = () => walletOf(stack.db, 'agent', t.agent.id);
      const r = await t.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, {
        amount: '2.00',
      });
      expect(r.status).toBe(201);
      expect(r.body.wallet).toMatchObject({ balance: '2.00' });
      expect((await agentWallet()).balance).toBe(1_000_000_000n);
      const short = await t.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, {
        amount: '1.01',
      });
      expect(short.status).toBe(402);
      expect((short.body as any).error).toMatchObject({ code: 'insufficient_balance' });
      expect((await agentWallet()).balance).toBe(1_000_000_000n);
      expect((await wallet(t)).balance).toBe(2_000_000_000n);
      // the agent reads its own wallet; another agent cannot recharge this workspace
      const view = await t.agent.client.get(`/admin/api/agents/${t.agent.id}/wallet`);
      expect(view.body).toMatchObject({ balance: '1.00' });
      const other = await tenant('0', { agentCredit: '5.00' });
      const foreign = await other.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, {
        amount: '1.00',
      });
      expect(foreign.status).toBe(404);
      expect((await wallet(t)).balance).toBe(2_000_000_000n);
    });

    it("a platform admin suspends an agent's wallet: its transfers are refused until it is resumed", async () => {
      const t = await tenant('0', { agentCredit: '3.00' });
      const agentWallet = `/admin/api/agents/${t.agent.id}/wallet`;
      const recharge = () =>
        t.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, { amount: '1.00' });
      // only a platform admin suspends or resumes an agent's wallet
      expect((await t.agent.client.post(`${agentWallet}/suspend`)).status).toBe(403);
      const sus = await admin.post(`${agentWallet}/suspend`);
      expect(sus.status).toBe(200);
      expect(sus.body).toMatchObject({ status: 'suspended', balance: '3.00' });
      expect((await t.agent.client.get(agentWallet)).body).toMatchObject({ status: 'suspended' });
      const refused = await recharge();
      expect(refused.status).toBe(402);
      expect((refused.body as any).error).toMatchObject({ code: 'wallet_suspended' });
      expect((await t.agent.client.post(`${agentWallet}/resume`)).status).toBe(403);
      expect(await walletOf(stack.db, 'agent', t.agent.id)).toMatchObject({ balance: 3_000_000_000n });
      expect((await wallet(t)).balance).toBe(0n);
      const res = await admin.post(`${agentWallet}/resume`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'active' });
      const ok = await recharge();
      expect(ok.status).toBe(201);
      expect(await walletOf(stack.db, 'agent', t.agent.id)).toMatchObject({ balance: 2_000_000_000n });
      expect((await wallet(t)).balance).toBe(1_000_000_000n);
    });

    it('Idempotency-Key: the same key and body credit once and replay; another body is 409', async () => {
      const t = await tenant('0');
      const path = `/admin/api/workspaces/${t.workspace.id}/wallet/recharges`;
      const key = { 'Idempotency-Key': `recharge-${t.workspace.id}` };
      const a = await admin.post(path, { amount: '1.50', note: 'once' }, key);
      const b = await admin.post(path, { amount: '1.50', note: 'once' }, key);
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(a.headers.get('idempotent-replayed')).toBeNull();
      expect(b.headers.get('idempotent-replayed')).toBe('true');
      expect(b.body).toEqual(a.body);
      expect((await wallet(t)).balance).toBe(1_500_000_000n);
      const c = await admin.post(path, { amount: '9.00', note: 'once' }, key);
      expect(c.status).toBe(409);
      expect((c.body as any).error).toMatchObject({ code: 'idempotency_key_reused' });
      expect((await wallet(t)).balance).toBe(1_500_000_000n);
    });

    it('Idempotency-Key after its 24 h: the ledger reference stays, so another amount or wallet is 409', async () => {
      const t = await tenant('0');
      const other = await tenant('0');
      const key = { 'Idempotency-Key': `recharge-later-${t.workspace.id}` };
      const path = (ws: string) => `/admin/api/workspaces/${ws}/wallet/recharges`;
      const first = await admin.post<{ transaction_id: string }>(path(t.workspace.id), { amount: '2.00' }, key);
      expect(first.status).toBe(201);
      // a day later the stored response is gone
      await stack.db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1`, [
        key['Idempotency-Key'],
      ]);
      for (const [ws, amount] of [
        [t.workspace.id, '5.00'],
        [other.workspace.id, '2.00'],
      ]) {
        const r = await admin.post(path(ws), { amount }, key);
        expect({ ws, status: r.status, code: (r.body as any).error?.code }).toEqual({
          ws,
          status: 409,
          code: 'idempotency_key_reused',
        });
      }
      // the very same recharge again: the first transaction, no money moved
      const same = await admin.post<{ transaction_id: string }>(path(t.workspace.id), { amount: '2.00' }, key);
      expect(same.status).toBe(201);
      expect(same.body.transaction_id).toBe(first.body.transaction_id);
      expect((await wallet(t)).balance).toBe(2_000_000_000n);
      expect((await wallet(other)).balance).toBe(0n);
    });

    it('Idempotency-Key: 10 concurrent identical requests credit exactly once', async () => {
      const t = await tenant('0', { agentCredit: '10.00' });
      const path = `/admin/api/workspaces/${t.workspace.id}/wallet/recharges`;
      for (const [who, client, amount] of [
        ['admin', admin, '2.00'],
        ['agent', t.agent.client, '3.00'],
      ] as const) {
        const key = `burst-${who}-${t.workspace.id}`;
        const replies = await Promise.all(
          Array.from({ length: 10 }, () => client.post(path, { amount }, { 'Idempotency-Key': key })),
        );
        const firsts = replies.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
        expect(firsts).toHaveLength(1);
        for (const r of replies) {
          if (r.status === 201) expect(r.body).toEqual(firsts[0].body);
          else {
            expect(r.status).toBe(409);
            expect((r.body as any).error.code).toBe('idempotency_in_progress');
            expect(r.headers.get('retry-after')).toBe('1');
          }
        }
        const posted = (await stack.db.query(
          `SELECT count(*)::int AS n FROM ledger_transactions WHERE reference LIKE $1`,
          [`%:${key}`],
        )) as Array<{ n: number }>;
        expect(posted[0].n).toBe(1);
      }
      expect((await wallet(t)).balance).toBe(5_000_000_000n);
      expect((await walletOf(stack.db, 'agent', t.agent.id)).balance).toBe(7_000_000_000n);
    });

    it('transaction history pages with a cursor, newest first, and adds up to the balance', async () => {
      const t = await tenant('1.00');
      for (const amount of ['0.10', '0.20', '0.30'])
        await admin.post(`/admin/api/workspaces/${t.workspace.id}/wallet/recharges`, {
          amount,
          note: `top-up ${amount}`,
        });
      const chat = await postChat(stack.url, t.key, ask('Spend a little [[demo: tokens=8]]', { max_tokens: 20 }));
      expect(chat.status).toBe(200);
      await settled(t);
      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await t.agent.client.get<{ data: any[]; next_cursor: string | null }>(
          `/admin/api/workspaces/${t.workspace.id}/wallet/transactions${q}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.data.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.data);
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(5);
      expect(new Set(seen.map((x) => x.id)).size).toBe(5);
      expect(seen.map((x) => x.kind)).toEqual(['usage', 'recharge', 'recharge', 'recharge', 'recharge']);
      expect(seen.map((x) => x.amount).slice(1)).toEqual(['0.30', '0.20', '0.10', '1.00']);
      expect(seen[0].amount).toBe(`-${chat.headers.get('x-credits-used')}`);
      expect(seen[0].requests).toBe(1); // a lease posting that paid for this one request
      const times = seen.map((x) => Date.parse(x.created_at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const total = seen.reduce((s, x) => s + nanos(x.amount), 0n);
      expect(total).toBe((await settled(t)).balance);
      const bad = await t.agent.client.get(`/admin/api/workspaces/${t.workspace.id}/wallet/transactions?cursor=nope`);
      expect(bad.status).toBe(400);
    });

    it('GET /v1/extras/credits shows the balance of the calling key', async () => {
      const t = await tenant('2.50');
      const chat = await postChat(stack.url, t.key, ask('Spend [[demo: tokens=6]]', { max_tokens: 20 }));
      await settled(t);
      const r = await fetch(`${stack.url}/v1/extras/credits`, { headers: { authorization: `Bearer ${t.key}` } });
      expect(r.status).toBe(200);
      const body = (await r.json()) as Record<string, string>;
      const w = await wallet(t);
      expect(body).toMatchObject({ object: 'wallet', currency: 'USD', status: 'active', held: '0.00' });
      expect(nanos(body.balance)).toBe(w.balance);
      expect(nanos(body.available)).toBe(w.balance);
      expect(w.balance).toBe(2_500_000_000n - nanos(chat.headers.get('x-credits-used')!));
    });
  });

  describe('usage reports', () => {
    let a: Tenant;
    let b: Tenant;

    beforeAll(async () => {
      a = await tenant('5.00');
      b = await tenant('5.00', { ownAgent: true });
      for (const [t, model, text] of [
        [a, 'gpt-4o-mini', 'A one [[demo: tokens=5]]'],
        [a, 'gpt-4o-mini', 'A two [[demo: tokens=6]]'],
        [a, 'deepseek-v3.2', 'A three [[demo: tokens=7]]'],
        [a, 'claude-haiku-4-5', 'A four [[demo: tokens=8]]'],
        [a, 'deepseek-v3.2', 'A fails [[demo: status=503]]'],
        [b, 'gemini-3-flash', 'B one [[demo: tokens=9]]'],
        [b, 'gpt-4o-mini', 'B two [[demo: tokens=3]]'],
      ] as const) {
        await postChat(stack.url, t.key, ask(text, { model, max_tokens: 50 }));
      }
      await waitForUsage(stack.db, a.workspace.id, 5);
      await waitForUsage(stack.db, b.workspace.id, 2);
    });

    const v1 = async (t: Tenant, q: string) => {
      const r = await fetch(`${stack.url}/v1/usage${q}`, { headers: { authorization: `Bearer ${t.key}` } });
      return { status: r.status, body: (await r.json()) as any };
    };

    it("GET /v1/usage reports spend per model and day for the caller's workspace only", async () => {
      for (const [t, models] of [
        [a, ['claude-haiku-4-5', 'deepseek-v3.2', 'gpt-4o-mini']],
        [b, ['gemini-3-flash', 'gpt-4o-mini']],
      ] as const) {
        const rows = (await usageRows(stack.db, t.workspace.id)).filter((r) => r.endpoint === 'chat.completions');
        const r = await v1(t, '');
        expect(r.status).toBe(200);
        const byModel = (r.body.by_model as any[]).filter((m) => m.model !== null);
        expect(byModel.map((m) => m.model).sort()).toEqual([...models]);
        for (const m of byModel) {
          const mine = rows.filter((x) => x.model === m.model);
          expect(m.requests).toBe(mine.length);
          expect(nanos(m.cost)).toBe(mine.reduce((s, x) => s + x.cost, 0n));
        }
        const today = new Date().toISOString().slice(0, 10);
        const days = (r.body.data as any[]).filter((d) => d.model !== null);
        expect(days.map((d) => d.date)).toEqual(days.map(() => today));
        expect(nanos(r.body.totals.cost)).toBe(rows.reduce((s, x) => s + x.cost, 0n));
      }
      const aFails = ((await v1(a, '?model=deepseek-v3.2')).body.data as any[])[0];
      expect(aFails).toMatchObject({ model: 'deepseek-v3.2', requests: 2, errors: 1 });
    });

    it('GET /v1/usage pages with a cursor', async () => {
      const groups: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await v1(a, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(r.status).toBe(200);
        expect(r.body.data.length).toBeLessThanOrEqual(1);
        groups.push(...(r.body.data as any[]).map((d) => `${d.date}/${d.model}`));
        cursor = r.body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(new Set(groups).size).toBe(groups.length);
      const today = new Date().toISOString().slice(0, 10);
      expect(groups.filter((g) => !g.endsWith('/null'))).toEqual([
        `${today}/claude-haiku-4-5`,
        `${today}/deepseek-v3.2`,
        `${today}/gpt-4o-mini`,
      ]);
      expect(pages).toBeGreaterThanOrEqual(3);
    });

    it('GET /admin/api/usage filters by workspace, model and status, pages, and exports CSV', async () => {
      const list = await admin.get<{ data: any[]; next_cursor: string | null }>(
        `/admin/api/usage?workspace_id=${a.workspace.id}&model=gpt-4o-mini`,
      );
      expect(list.status).toBe(200);
      expect(list.body.data).toHaveLength(2);
      for (const row of list.body.data)
        expect(row).toMatchObject({ workspace_id: a.workspace.id, model_used: 'gpt-4o-mini', status: 200 });
      const errors = await admin.get<{ data: any[] }>(`/admin/api/usage?workspace_id=${a.workspace.id}&status=error`);
      expect(errors.body.data.map((r) => [r.status, r.model_requested])).toEqual([[502, 'deepseek-v3.2']]);

      // pages of one row, newest first, each row once
      const ids: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: { data: any[]; next_cursor: string | null } } = await admin.get(
          `/admin/api/usage?workspace_id=${a.workspace.id}&endpoint=chat.completions&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        ids.push(...page.body.data.map((r) => r.id));
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor && pages < 50);
      const inDb = (await stack.db.query(
        `SELECT id FROM usage_log WHERE workspace_id = $1 AND endpoint = 'chat.completions' ORDER BY created_at DESC, id DESC`,
        [a.workspace.id],
      )) as Array<{ id: string }>;
      expect(ids).toEqual(inDb.map((r) => r.id));

      // an agent sees only its own workspaces' rows
      const foreign = await b.agent.client.get<{ data: any[] }>(`/admin/api/usage?workspace_id=${a.workspace.id}`);
      expect(foreign.status).toBe(200);
      expect(foreign.body.data).toEqual([]);
      const own = await b.agent.client.get<{ data: any[] }>(`/admin/api/usage`);
      expect(own.body.data.length).toBeGreaterThan(0);
      expect(new Set(own.body.data.map((r) => r.workspace_id))).toEqual(new Set([b.workspace.id]));

      // CSV: the same filter, header first
      const res = await fetch(
        `${stack.url}/admin/api/usage?workspace_id=${a.workspace.id}&model=gpt-4o-mini&format=csv`,
        {
          headers: { authorization: `Bearer ${admin.token}` },
        },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = (await res.text()).split(/\r?\n/).filter(Boolean);
      const header = lines[0].split(',');
      expect(header).toEqual(expect.arrayContaining(['request_id', 'workspace_id', 'model_used', 'cost', 'status']));
      expect(lines).toHaveLength(3);
      const col = (name: string) => header.indexOf(name);
      for (const line of lines.slice(1)) {
        const cells = line.split(',');
        expect(cells[col('workspace_id')]).toBe(a.workspace.id);
        expect(cells[col('model_used')]).toBe('gpt-4o-mini');
      }
      const csvCost = lines.slice(1).reduce((s, l) => s + nanos(l.split(',')[col('cost')]), 0n);
      expect(csvCost).toBe(list.body.data.reduce((s, r) => s + nanos(r.cost), 0n));
    });
  });
});
