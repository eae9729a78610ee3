// Stripe top-ups end to end: Checkout Sessions are created through the official `stripe` package
// against a local stand-in for Stripe's API, and webhooks signed with Stripe's own test helper credit
// a paid session exactly once, whatever the replays, duplicates and order of events.
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { ledgerViolations, walletOf } from './helpers/money';
import { CheckoutSession, startStripeStandIn, StripeStandIn } from './helpers/stripe-stand-in';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

jest.setTimeout(60_000);

const SECRET_KEY = 'sk_test_switchyard_e2e_0123456789';
const WEBHOOK_SECRET = 'whsec_test_switchyard_e2e_0123456789';

describe('Stripe top-ups', () => {
  let stripeApi: StripeStandIn;
  let stack: TestStack;
  let admin: AdminClient;
  let t: Tenant;

  beforeAll(async () => {
    stripeApi = await startStripeStandIn();
    stack = await startStack({
      env: { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_URL: stripeApi.url },
    });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    t = await createTenant(admin, { credit: '0' });
  });
  afterAll(async () => {
    await stack?.close();
    await stripeApi?.close();
  });
  afterEach(async () => {
    expect(await ledgerViolations(stack.db)).toEqual([]);
  });

  // a workspace never credited has no wallet row yet: its balance is zero
  const balance = async (workspaceId = t.workspace.id) =>
    (await walletOf(stack.db, 'workspace', workspaceId).catch(() => ({ balance: 0n }))).balance;
  const topups = async (sessionId: string) =>
    (
      (await stack.db.query(
        `SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'stripe_topup' AND reference = $1`,
        [sessionId],
      )) as Array<{ n: number }>
    )[0].n;

  async function checkout(amount: string, workspaceId = t.workspace.id, client = admin): Promise<CheckoutSession> {
    const r = await client.post<{ id: string; url: string }>('/admin/api/billing/checkout', {
      workspace_id: workspaceId,
      amount,
    });
    expect(r.status).toBe(201);
    const s = stripeApi.sessions.get(r.body.id);
    if (!s) throw new Error(`the stand-in never created ${r.body.id}`);
    return s;
  }

  function event(
    type: string,
    session: CheckoutSession,
    over: Partial<CheckoutSession> = {},
    id = `evt_test_${randomBytes(12).toString('hex')}`,
  ) {
    return {
      id,
      object: 'event',
      api_version: '2025-10-29.clover',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          ...session,
          status: 'complete',
          payment_intent: `pi_test_${randomBytes(8).toString('hex')}`,
          ...over,
        },
      },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
  }

  /** Delivers an event as Stripe does: the raw JSON, signed with the endpoint secret by Stripe's own helper. */
  async function deliver(
    evt: object,
    opts: { secret?: string; signature?: string | null; tamper?: (payload: string) => string } = {},
  ) {
    const payload = JSON.stringify(evt);
    const signature =
      opts.signature === undefined
        ? Stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? WEBHOOK_SECRET })
        : opts.signature;
    const res = await fetch(`${stack.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'stripe-signature': signature }) },
      body: opts.tamper ? opts.tamper(payload) : payload,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  }

  it('creates a Checkout Session for the workspace: client_reference_id, metadata and amount reach Stripe', async () => {
    const sent = stripeApi.requests.length;
    const r = await admin.post<{ id: string; url: string }>('/admin/api/billing/checkout', {
      workspace_id: t.workspace.id,
      amount: '25.00',
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: expect.stringMatching(/^cs_test_/), url: expect.stringContaining(r.body.id) });
    expect(stripeApi.requests.length - sent).toBe(1);
    const req = stripeApi.requests.at(-1)!;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions' });
    expect(req.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(req.form).toMatchObject({
      mode: 'payment',
      client_reference_id: t.workspace.id,
      'metadata[workspace_id]': t.workspace.id,
      'line_items[0][quantity]': '1',
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '2500',
    });
    expect(stripeApi.sessions.get(r.body.id)).toMatchObject({
      amount_total: 2500,
      currency: 'usd',
      metadata: { workspace_id: t.workspace.id },
    });
    // nothing is credited until Stripe says the session is paid
    expect(await balance()).toBe(0n);
  });

  it('refuses amounts Stripe cannot charge, and workspaces the caller does not own', async () => {
    const sent = stripeApi.requests.length;
    for (const amount of ['0', '-5.00', '1.005']) {
      const r = await admin.post('/admin/api/billing/checkout', { workspace_id: t.workspace.id, amount });
      expect(r.status).toBe(400);
    }
    const stranger = await createTenant(admin, { credit: '0' });
    const foreign = await stranger.agent.client.post('/admin/api/billing/checkout', {
      workspace_id: t.workspace.id,
      amount: '5.00',
    });
    expect(foreign.status).toBe(404);
    expect(stripeApi.requests.length).toBe(sent);
    // an agent pays for its own workspace
    const own = await checkout('7.00', stranger.workspace.id, stranger.agent.client);
    expect(own.metadata.workspace_id).toBe(stranger.workspace.id);
  });

  it('credits amount_total of a paid session once, and a replayed event changes nothing', async () => {
    const s = await checkout('12.34');
    const before = await balance();
    const evt = event('checkout.session.completed', s, { payment_status: 'paid' });
    const first = await deliver(evt);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ received: true, credited: true });
    expect((await balance()) - before).toBe(12_340_000_000n); // 1234 cents
    const again = await deliver(evt);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ received: true });
    expect(again.body!.credited).not.toBe(true);
    expect((await balance()) - before).toBe(12_340_000_000n);
    expect(await topups(s.id)).toBe(1);
    const txs = await admin.get<{ data: Array<{ kind: string; amount: string; reference: string }> }>(
      `/admin/api/workspaces/${t.workspace.id}/wallet/transactions`,
    );
    expect(txs.body.data[0]).toMatchObject({ kind: 'stripe_topup', amount: '12.34', reference: s.id });
  });

  it('a lost database connection while crediting answers 503 and does not mark the event processed: the retry credits', async () => {
    const s = await checkout('3.00');
    const before = await balance();
    const evt = event('checkout.session.completed', s, { payment_status: 'paid' });
    const db = stack.app.app.get(DataSource);
    const query = db.query.bind(db);
    const spy = jest
      .spyOn(db, 'query')
      .mockImplementation((sql: string, params?: unknown[]) =>
        /FROM workspaces WHERE id/.test(sql) ? Promise.reject(new Error('connection terminated')) : query(sql, params),
      );
    const failed = await deliver(evt).finally(() => spy.mockRestore());
    expect(failed.status).toBe(503); // Stripe retries any 5xx
    expect(failed.headers.get('retry-after')).toBeTruthy();
    expect(await balance()).toBe(before);
    expect(await stack.db.query(`SELECT id FROM stripe_events WHERE id = $1`, [evt.id])).toEqual([]);
    // Stripe delivers the same event again: now it credits, once
    const retry = await deliver(evt);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ received: true, credited: true });
    expect((await balance()) - before).toBe(3_000_000_000n);
    expect(await topups(s.id)).toBe(1);
  });

  it('credits a session once across different events for it: duplicates, async success, any order, at once', async () => {
    // completed delivered twice under two event ids
    const a = await checkout('3.00');
    let before = await balance();
    expect((await deliver(event('checkout.session.completed', a, { payment_status: 'paid' }))).body).toMatchObject({
      credited: true,
    });
    expect((await deliver(event('checkout.session.completed', a, { payment_status: 'paid' }))).body!.credited).toBe(
      false,
    );
    // and then async_payment_succeeded for the same session
    expect(
      (await deliver(event('checkout.session.async_payment_succeeded', a, { payment_status: 'paid' }))).status,
    ).toBe(200);
    expect((await balance()) - before).toBe(3_000_000_000n);
    expect(await topups(a.id)).toBe(1);

    // an async payment method: completed arrives unpaid, the money comes with async_payment_succeeded
    const b = await checkout('4.00');
    before = await balance();
    expect((await deliver(event('checkout.session.completed', b, { payment_status: 'unpaid' }))).body).toMatchObject({
      credited: false,
    });
    expect(await balance()).toBe(before);
    expect(
      (await deliver(event('checkout.session.async_payment_succeeded', b, { payment_status: 'paid' }))).body,
    ).toMatchObject({ credited: true });
    expect((await balance()) - before).toBe(4_000_000_000n);

    // out of order: the success before the completion it follows
    const c = await checkout('5.00');
    before = await balance();
    await deliver(event('checkout.session.async_payment_succeeded', c, { payment_status: 'paid' }));
    await deliver(event('checkout.session.completed', c, { payment_status: 'unpaid' }));
    await deliver(event('checkout.session.completed', c, { payment_status: 'paid' }));
    expect((await balance()) - before).toBe(5_000_000_000n);
    expect(await topups(c.id)).toBe(1);

    // eight deliveries at once: the same event four times and four other events for the session
    const d = await checkout('6.00');
    before = await balance();
    const same = event('checkout.session.completed', d, { payment_status: 'paid' });
    const replies = await Promise.all([
      ...Array.from({ length: 4 }, () => deliver(same)),
      ...Array.from({ length: 4 }, (_, i) =>
        deliver(
          event(i % 2 ? 'checkout.session.completed' : 'checkout.session.async_payment_succeeded', d, {
            payment_status: 'paid',
          }),
        ),
      ),
    ]);
    for (const r of replies) expect(r.status).toBe(200);
    expect(replies.filter((r) => r.body!.credited === true)).toHaveLength(1);
    expect((await balance()) - before).toBe(6_000_000_000n);
    expect(await topups(d.id)).toBe(1);
  });

  it('answers 400 to a bad signature and credits nothing', async () => {
    const s = await checkout('9.00');
    const before = await balance();
    const evt = event('checkout.session.completed', s, { payment_status: 'paid' });
    expect((await deliver(evt, { secret: 'whsec_someone_else' })).status).toBe(400);
    expect((await deliver(evt, { signature: null })).status).toBe(400);
    expect((await deliver(evt, { signature: 't=1,v1=deadbeef' })).status).toBe(400);
    // a valid signature over another body: the amount was raised after signing
    const tampered = await deliver(evt, { tamper: (p) => p.replace('"amount_total":900', '"amount_total":900000') });
    expect(tampered.status).toBe(400);
    // a signature too old to be a live delivery (replay protection of constructEvent, 300 s)
    const payload = JSON.stringify(evt);
    const old = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: WEBHOOK_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    expect((await deliver(evt, { signature: old })).status).toBe(400);
    expect(await balance()).toBe(before);
    expect(await topups(s.id)).toBe(0);
    // the genuine delivery still goes through afterwards
    expect((await deliver(evt)).body).toMatchObject({ credited: true });
    expect((await balance()) - before).toBe(9_000_000_000n);
  });

  it('answers 200 to other event types and credits nothing', async () => {
    const s = await checkout('8.00');
    const before = await balance();
    for (const type of [
      'checkout.session.expired',
      'checkout.session.async_payment_failed',
      'payment_intent.succeeded',
      'customer.created',
      'charge.refunded',
    ]) {
      const r = await deliver(event(type, s, { payment_status: 'paid' }));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ received: true });
      expect(r.body!.credited).not.toBe(true);
    }
    expect(await balance()).toBe(before);
    expect(await topups(s.id)).toBe(0);
  });

  it('credits nothing for an unpaid session, another currency or an unknown workspace', async () => {
    const s = await checkout('2.00');
    const before = await balance();
    for (const over of [
      { payment_status: 'unpaid' as const },
      { payment_status: 'no_payment_required' as const },
      { payment_status: 'paid' as const, currency: 'eur' },
      {
        payment_status: 'paid' as const,
        metadata: { workspace_id: '00000000-0000-4000-8000-000000000000' },
        client_reference_id: '00000000-0000-4000-8000-000000000000',
      },
      // not even a workspace id (the lookup would fail on it): ignored, not retried forever
      { payment_status: 'paid' as const, metadata: { workspace_id: 'ws-bogus' }, client_reference_id: 'ws-bogus' },
    ]) {
      const r = await deliver(event('checkout.session.completed', s, over));
      expect(r.status).toBe(200);
      expect(r.body!.credited).not.toBe(true);
    }
    expect(await balance()).toBe(before);
    expect(await topups(s.id)).toBe(0);
  });
});
