// The platform foundation as a README user meets it: admin sign-in, agents, workspaces, keys shown once,
// key revocation and expiry (in one process and across two), agent API tokens, tenancy between agents,
// and Idempotency-Key on admin routes (secrets shown once are never stored), secrets at rest, ids and
// numbers checked before they reach Postgres. Only the public HTTP surface is used, plus reads of the
// database to prove what it holds.
import { createHash } from 'node:crypto';
import { grepDatabase } from '../helpers/grep-database';
import { AdminClient, Json } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const cursorOf = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

interface V1Reply {
  status: number;
  body: { error?: { message: string; type: string; param: string | null; code: string } } & Json;
}

/** One /v1 call as an API client makes it (fresh each time: nothing cached on the client side). */
async function v1(
  base: string,
  path: string,
  key?: string,
  init: { method?: string; body?: unknown } = {},
): Promise<V1Reply> {
  const res = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as V1Reply['body'] };
}

/** Polls until `check` is true; returns the milliseconds it took (or throws after `limitMs`). */
async function timeUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Row = Json & { id: string };
type List = { data: Row[]; next_cursor: string | null };

describe('platform: admin, agents, workspaces, keys, tokens, tenancy, idempotency', () => {
  let stack: TestStack;
  let admin: AdminClient;
  // agent A: signs in and builds its customer by hand, as the README shows
  let agentA: AdminClient;
  let agentAId: string;
  let wsA: string;
  let keyA: { id: string; key: string };
  // agent B: another reseller on the same platform
  let agentB: AdminClient;
  let agentBId: string;
  let wsB: string;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('the platform admin signs in with ADMIN_EMAIL/ADMIN_PASSWORD and a wrong password is refused', async () => {
    const anon = new AdminClient(stack.url);
    const bad = await anon.post('/admin/api/auth/login', { email: ADMIN_EMAIL, password: 'not-the-password' });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_credentials' } });

    const ok = await anon.post<{ token: string; user: { role: string } }>('/admin/api/auth/login', {
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
    });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.token).toBe('string');
    expect(ok.body.user.role).toBe('platform_admin');
    admin = new AdminClient(stack.url, ok.body.token);

    const noToken = await new AdminClient(stack.url).get('/admin/api/workspaces');
    expect(noToken.status).toBe(401);
    expect(noToken.body).toMatchObject({ error: { code: 'missing_authorization' } });
  });

  it('the admin creates an agent; the agent signs in, creates a workspace and a key that is shown once', async () => {
    const a = await admin.post<Row>('/admin/api/agents', {
      name: 'Agent A',
      email: 'agent-a@e2e.test',
      password: 'agent-a-password',
    });
    expect(a.status).toBe(201);
    agentAId = a.body.id;
    agentA = await AdminClient.login(stack.url, 'agent-a@e2e.test', 'agent-a-password');

    const ws = await agentA.post<Row>('/admin/api/workspaces', { name: 'Customer of A' });
    expect(ws.status).toBe(201);
    expect(ws.body.agent_id).toBe(agentAId);
    wsA = ws.body.id;

    const k = await agentA.post<Row & { key: string; prefix: string }>(`/admin/api/workspaces/${wsA}/keys`, {
      name: 'production',
    });
    expect(k.status).toBe(201);
    expect(k.body.key).toMatch(/^sk-sy-[0-9A-Za-z]{32,}$/);
    expect(k.body.key.startsWith(k.body.prefix)).toBe(true);
    expect(k.body.prefix.length).toBeLessThan(k.body.key.length - 20); // the prefix alone is useless
    keyA = { id: k.body.id, key: k.body.key };

    // shown once: neither the list nor the key's own page carries the full key
    const list = await agentA.get<List>(`/admin/api/workspaces/${wsA}/keys`);
    expect(list.status).toBe(200);
    const listed = list.body.data.find((x) => x.id === keyA.id)!;
    expect(listed.prefix).toBe(k.body.prefix);
    expect(listed).not.toHaveProperty('key');
    expect(JSON.stringify(list.body)).not.toContain(keyA.key);
    const one = await agentA.get(`/admin/api/keys/${keyA.id}`);
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('key');
    expect(JSON.stringify(one.body)).not.toContain(keyA.key);
  });

  it('a /v1 request with that key passes auth (Bearer and x-api-key)', async () => {
    const r = await v1(stack.url, '/v1/models', keyA.key);
    expect(r.status).toBe(200);
    expect(r.body.object).toBe('list');
    const x = await fetch(`${stack.url}/v1/models`, { headers: { 'x-api-key': keyA.key } });
    expect(x.status).toBe(200);
  });

  it('no key: 401 missing_authorization; an unknown key: 401 invalid_api_key', async () => {
    const none = await v1(stack.url, '/v1/models');
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: 'missing_authorization', type: 'authentication_error' });
    const unknown = await v1(stack.url, '/v1/models', 'sk-sy-' + 'Q'.repeat(40));
    expect(unknown.status).toBe(401);
    expect(unknown.body.error!.code).toBe('invalid_api_key');
    // not even shaped like a key: refused without a lookup, and told what a key looks like
    const malformed = await v1(stack.url, '/v1/models', 'not-a-switchyard-key');
    expect(malformed.status).toBe(401);
    expect(malformed.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
    expect(malformed.body.error!.message).toMatch(/Keys look like sk-sy-/);
  });

  it('revoking a key refuses it at once (well under 3 s), with its own message', async () => {
    const k = await agentA.post<{ id: string; key: string }>(`/admin/api/workspaces/${wsA}/keys`, {
      name: 'to revoke',
    });
    expect((await v1(stack.url, '/v1/models', k.body.key)).status).toBe(200); // warm in the key cache
    const del = await agentA.delete<{ status: string; revoked_at: string }>(`/admin/api/keys/${k.body.id}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('revoked');
    const ms = await timeUntil(async () => (await v1(stack.url, '/v1/models', k.body.key)).status === 401, 5000);
    expect(ms).toBeLessThan(3000);
    expect(ms).toBeLessThan(500); // invalidation, not the cache TTL (10 s)
    const r = await v1(stack.url, '/v1/models', k.body.key);
    expect(r.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
    expect(r.body.error!.message).toMatch(/revoked/i);
  });

  it('an expired key is refused with the same code and a message different from revoked and unknown', async () => {
    const k = await agentA.post<{ id: string; key: string; status: string }>(`/admin/api/workspaces/${wsA}/keys`, {
      name: 'expired',
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(k.status).toBe(201);
    expect(k.body.status).toBe('expired');
    const expired = await v1(stack.url, '/v1/models', k.body.key);
    expect(expired.status).toBe(401);
    expect(expired.body.error!.code).toBe('invalid_api_key');

    const r = await agentA.post<{ id: string; key: string }>(`/admin/api/workspaces/${wsA}/keys`, { name: 'revoked' });
    await agentA.delete(`/admin/api/keys/${r.body.id}`);
    const revoked = await v1(stack.url, '/v1/models', r.body.key);
    const unknown = await v1(stack.url, '/v1/models', 'sk-sy-' + 'Z'.repeat(40));
    expect(revoked.body.error!.code).toBe('invalid_api_key');
    expect(unknown.body.error!.code).toBe('invalid_api_key');
    const messages = new Set([expired.body.error!.message, revoked.body.error!.message, unknown.body.error!.message]);
    expect(messages.size).toBe(3);
    expect(expired.body.error!.message).toMatch(/expired/i);

    // an expiry moved into the past later takes effect too
    const later = await agentA.post<{ id: string; key: string }>(`/admin/api/workspaces/${wsA}/keys`, {
      name: 'expires later',
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect((await v1(stack.url, '/v1/models', later.body.key)).status).toBe(200);
    expect(
      (
        await agentA.patch(`/admin/api/keys/${later.body.id}`, {
          expires_at: new Date(Date.now() - 1000).toISOString(),
        })
      ).status,
    ).toBe(200);
    const now = await v1(stack.url, '/v1/models', later.body.key);
    expect(now.status).toBe(401);
    expect(now.body.error!.message).toMatch(/expired/i);
  });

  it('agent API tokens work as bearer for the admin API and can be revoked', async () => {
    const t = await agentA.post<{ id: string; token: string; prefix: string }>('/admin/api/tokens', {
      name: 'ci script',
    });
    expect(t.status).toBe(201);
    expect(typeof t.body.token).toBe('string');
    const script = new AdminClient(stack.url, t.body.token);
    const me = await script.get<{ role: string; agent_id: string; token_kind: string }>('/admin/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'agent', agent_id: agentAId, token_kind: 'api' });
    const list = await script.get<List>('/admin/api/workspaces');
    expect(list.status).toBe(200);
    expect(list.body.data.map((w) => w.id)).toContain(wsA);

    const tokens = await agentA.get<List>('/admin/api/tokens');
    const listed = tokens.body.data.find((x) => x.id === t.body.id)!;
    expect(listed.prefix).toBe(t.body.prefix);
    expect(JSON.stringify(tokens.body)).not.toContain(t.body.token);

    expect((await agentA.delete(`/admin/api/tokens/${t.body.id}`)).status).toBe(204);
    const after = await script.get('/admin/api/workspaces');
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'invalid_credentials' } });
    // the session that made it is unaffected
    expect((await agentA.get('/admin/api/workspaces')).status).toBe(200);
  });

  it('a key revoked through process A is refused by process B within seconds', async () => {
    const peer = await stack.startPeer();
    const k = await agentA.post<{ id: string; key: string }>(`/admin/api/workspaces/${wsA}/keys`, {
      name: 'multi-process',
    });
    // B knows the key (cached as valid), then A revokes it
    expect((await v1(peer.url, '/v1/models', k.body.key)).status).toBe(200);
    expect((await v1(peer.url, '/v1/models', k.body.key)).status).toBe(200);
    expect((await agentA.delete(`/admin/api/keys/${k.body.id}`)).status).toBe(200);
    const ms = await timeUntil(async () => (await v1(peer.url, '/v1/models', k.body.key)).status === 401, 8000);
    expect(ms).toBeLessThan(3000);
    const r = await v1(peer.url, '/v1/models', k.body.key);
    expect(r.body.error!.code).toBe('invalid_api_key');
    expect(r.body.error!.message).toMatch(/revoked/i);
    // and the key A never touched still works on B
    expect((await v1(peer.url, '/v1/models', keyA.key)).status).toBe(200);
  }, 15_000);

  describe('tenancy', () => {
    let keyOfA: string;
    let tokenOfA: { id: string; token: string };

    beforeAll(async () => {
      // agent A has money, a credited workspace and a transaction history
      await admin.post(`/admin/api/agents/${agentAId}/wallet/recharges`, { amount: '50.00', note: 'seed A' });
      const t = await agentA.post(`/admin/api/workspaces/${wsA}/wallet/recharges`, {
        amount: '5.00',
        note: 'to customer',
      });
      expect(t.status).toBe(201);
      keyOfA = keyA.id;
      tokenOfA = (await agentA.post<{ id: string; token: string }>('/admin/api/tokens', { name: "A's script" })).body;

      const b = await admin.post<Row>('/admin/api/agents', {
        name: 'Agent B',
        email: 'agent-b@e2e.test',
        password: 'agent-b-password',
      });
      agentBId = b.body.id;
      agentB = await AdminClient.login(stack.url, 'agent-b@e2e.test', 'agent-b-password');
      wsB = (await agentB.post<Row>('/admin/api/workspaces', { name: 'Customer of B' })).body.id;
    });

    it("agent B reads none of agent A's records, not even by id (404, never 403)", async () => {
      const reads = [
        `/admin/api/workspaces/${wsA}`,
        `/admin/api/workspaces/${wsA}/keys`,
        `/admin/api/keys/${keyOfA}`,
        `/admin/api/workspaces/${wsA}/wallet`,
        `/admin/api/workspaces/${wsA}/wallet/transactions`,
        `/admin/api/agents/${agentAId}`,
        `/admin/api/agents/${agentAId}/wallet`,
        `/admin/api/agents/${agentAId}/wallet/transactions`,
      ];
      for (const path of reads) {
        const r = await agentB.get(path);
        expect({ path, status: r.status, code: (r.body as { error?: { code?: string } }).error?.code }).toEqual({
          path,
          status: 404,
          code: 'not_found',
        });
      }
      // the same paths answer A
      for (const path of reads)
        expect({ path, status: (await agentA.get(path)).status }).toEqual({ path, status: 200 });
    });

    it("agent B changes none of agent A's records (PATCH/POST/PUT/DELETE on A's ids: 404), and nothing moved", async () => {
      const balanceBefore = (await agentA.get<{ balance: string }>(`/admin/api/workspaces/${wsA}/wallet`)).body.balance;
      const writes: Array<[string, string, unknown]> = [
        ['PATCH', `/admin/api/workspaces/${wsA}`, { name: 'pwned' }],
        ['PUT', `/admin/api/workspaces/${wsA}/allowlist`, { models: ['gpt-4o'] }],
        ['POST', `/admin/api/workspaces/${wsA}/keys`, { name: 'intruder' }],
        ['PATCH', `/admin/api/keys/${keyOfA}`, { name: 'pwned' }],
        ['DELETE', `/admin/api/keys/${keyOfA}`, undefined],
        ['POST', `/admin/api/workspaces/${wsA}/wallet/recharges`, { amount: '1.00' }],
        ['POST', `/admin/api/workspaces/${wsA}/wallet/suspend`, {}],
        ['POST', `/admin/api/workspaces`, { name: 'in A', agent_id: agentAId }],
        ['POST', '/admin/api/billing/checkout', { workspace_id: wsA, amount: '5.00' }],
      ];
      for (const [method, path, body] of writes) {
        const r = await agentB.call(method, path, body);
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 404 });
      }
      // A suspended its customer's wallet: B cannot resume it; B cannot revoke A's token; B cannot
      // rename A (a platform admin's route: 403 for every agent, A included)
      expect((await agentA.post(`/admin/api/workspaces/${wsA}/wallet/suspend`, {})).status).toBe(200);
      const gaps: Array<[string, string, unknown, number]> = [
        ['POST', `/admin/api/workspaces/${wsA}/wallet/resume`, {}, 404],
        ['DELETE', `/admin/api/tokens/${tokenOfA.id}`, undefined, 404],
        ['PATCH', `/admin/api/agents/${agentAId}`, { name: 'pwned' }, 403],
        ['POST', `/admin/api/agents/${agentAId}/wallet/suspend`, {}, 403],
      ];
      for (const [method, path, body, status] of gaps) {
        const r = await agentB.call(method, path, body);
        expect({ method, path, status: r.status }).toEqual({ method, path, status });
      }
      expect((await agentA.get<{ status: string }>(`/admin/api/workspaces/${wsA}/wallet`)).body.status).toBe(
        'suspended',
      );
      expect((await agentA.post(`/admin/api/workspaces/${wsA}/wallet/resume`, {})).status).toBe(200);
      expect((await new AdminClient(stack.url, tokenOfA.token).get('/admin/api/auth/me')).status).toBe(200);
      expect((await admin.get<{ name: string }>(`/admin/api/agents/${agentAId}`)).body.name).toBe('Agent A');
      const ws = await agentA.get<{ name: string; allowlist: unknown }>(`/admin/api/workspaces/${wsA}`);
      expect(ws.body.name).toBe('Customer of A');
      expect(ws.body.allowlist).toBeNull();
      const key = await agentA.get<{ name: string; status: string }>(`/admin/api/keys/${keyOfA}`);
      expect(key.body).toMatchObject({ name: 'production', status: 'active' });
      const keys = await agentA.get<List>(`/admin/api/workspaces/${wsA}/keys`);
      expect(keys.body.data.some((k) => k.name === 'intruder')).toBe(false);
      const wallet = await agentA.get<{ balance: string; status: string }>(`/admin/api/workspaces/${wsA}/wallet`);
      expect(wallet.body).toMatchObject({ balance: balanceBefore, status: 'active' });
      expect((await v1(stack.url, '/v1/models', keyA.key)).status).toBe(200);
    });

    it("a random id answers exactly like A's ids (nothing to probe)", async () => {
      const random = '0b9c3a52-1111-4c1d-8e8e-123456789abc';
      const mine = await agentB.get(`/admin/api/workspaces/${wsA}`);
      const none = await agentB.get(`/admin/api/workspaces/${random}`);
      expect(none.status).toBe(404);
      expect(mine.body).toEqual(none.body);
    });

    it('listings show an agent only its own records; ?agent_id cannot widen them', async () => {
      const own = await agentB.get<List>('/admin/api/workspaces');
      expect(own.body.data.map((w) => w.id)).toEqual([wsB]);
      const widened = await agentB.get<List>(`/admin/api/workspaces?agent_id=${agentAId}`);
      expect(widened.body.data.map((w) => w.id)).toEqual([wsB]);
      const searched = await agentB.get<List>('/admin/api/workspaces?search=Customer');
      expect(searched.body.data.map((w) => w.id)).toEqual([wsB]);
      const txB = await agentB.get<List>(`/admin/api/workspaces/${wsB}/wallet/transactions`);
      expect(txB.status).toBe(200);
      expect(txB.body.data).toEqual([]);
      const usage = await agentB.get<List>(`/admin/api/usage?workspace_id=${wsA}`);
      expect(usage.status).toBe(200);
      expect(usage.body.data).toEqual([]);
    });

    it('an agent cannot call platform-admin routes (403)', async () => {
      const create = await agentB.post('/admin/api/agents', {
        name: 'Sneaky',
        email: 'sneaky@e2e.test',
        password: 'sneaky-password',
      });
      expect(create.status).toBe(403);
      expect(create.body).toMatchObject({ error: { code: 'forbidden' } });
      expect((await agentB.get('/admin/api/agents')).status).toBe(403);
      expect((await agentB.post(`/admin/api/agents/${agentBId}/wallet/recharges`, { amount: '1000.00' })).status).toBe(
        403,
      );
      expect(
        (await agentB.post('/admin/api/providers', { id: 'x', kind: 'openai', base_url: 'http://example.test/v1' }))
          .status,
      ).toBe(403);
      const wallet = await agentB.get<{ balance: string }>(`/admin/api/agents/${agentBId}/wallet`);
      expect(wallet.status).toBe(200);
      expect(wallet.body.balance).toBe('0.00');
    });

    it('the platform admin sees everything', async () => {
      const all = await admin.get<List>('/admin/api/workspaces?limit=100');
      const ids = all.body.data.map((w) => w.id);
      expect(ids).toEqual(expect.arrayContaining([wsA, wsB]));
      for (const path of [
        `/admin/api/workspaces/${wsA}`,
        `/admin/api/workspaces/${wsB}`,
        `/admin/api/keys/${keyOfA}`,
        `/admin/api/workspaces/${wsA}/wallet/transactions`,
        `/admin/api/agents/${agentAId}/wallet`,
      ]) {
        expect({ path, status: (await admin.get(path)).status }).toEqual({ path, status: 200 });
      }
      const agents = await admin.get<List>('/admin/api/agents?limit=100');
      expect(agents.body.data.map((a) => a.id)).toEqual(expect.arrayContaining([agentAId, agentBId]));
      const tx = await admin.get<List>(`/admin/api/workspaces/${wsA}/wallet/transactions`);
      expect(tx.body.data.length).toBeGreaterThan(0);
    });
  });

  describe('idempotency', () => {
    it('Idempotency-Key on POST workspaces replays the first response; another body is 409 idempotency_key_reused', async () => {
      const headers = { 'idempotency-key': 'create-ws-0001' };
      const first = await agentA.post<Row>('/admin/api/workspaces', { name: 'Idempotent customer' }, headers);
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const again = await agentA.post<Row>('/admin/api/workspaces', { name: 'Idempotent customer' }, headers);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      const list = await agentA.get<List>('/admin/api/workspaces?search=Idempotent');
      expect(list.body.data.map((w) => w.id)).toEqual([first.body.id]);

      const other = await agentA.post('/admin/api/workspaces', { name: 'Another customer' }, headers);
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
      expect((await agentA.get<List>('/admin/api/workspaces?search=Another')).body.data).toEqual([]);

      // keys are scoped to the caller: agent B may use the same key for its own request
      const b = await agentB.post<Row>('/admin/api/workspaces', { name: 'B idempotent' }, headers);
      expect(b.status).toBe(201);
      expect(b.headers.get('idempotent-replayed')).toBeNull();
      expect(b.body.agent_id).toBe(agentBId);
    });
  });

  describe('secrets shown once are never stored', () => {
    it('a new key with an Idempotency-Key: the replay answers the same record with key null; the database never holds the key', async () => {
      const headers = { 'idempotency-key': 'create-key-0001' };
      const first = await agentA.post<Row & { key: string }>(
        `/admin/api/workspaces/${wsA}/keys`,
        { name: 'idem' },
        headers,
      );
      expect(first.status).toBe(201);
      expect(first.body.key).toMatch(/^sk-sy-/);
      const again = await agentA.post<Row & { key: string | null }>(
        `/admin/api/workspaces/${wsA}/keys`,
        { name: 'idem' },
        headers,
      );
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual({ ...first.body, key: null });
      const keys = await agentA.get<List>(`/admin/api/workspaces/${wsA}/keys?limit=100`);
      expect(keys.body.data.filter((k) => k.name === 'idem')).toHaveLength(1);
      // the replay was answered from the stored response, which holds the record and not the key
      const stored: Array<{ body: string }> = await stack.db.query(
        `SELECT convert_from(body, 'UTF8') AS body FROM idempotency_keys WHERE key = $1`,
        ['create-key-0001'],
      );
      expect(JSON.parse(stored[0].body)).toMatchObject({ id: first.body.id, key: null });
      // anywhere in the database: only its SHA-256
      expect(await grepDatabase(stack.db, first.body.key)).toEqual([]);
      expect(await grepDatabase(stack.db, first.body.key.slice(6))).toEqual([]);
      expect(await grepDatabase(stack.db, sha256(first.body.key))).toEqual(['api_keys.key_hash']);
      // and the key works
      expect((await v1(stack.url, '/v1/models', first.body.key)).status).toBe(200);
    });

    it('agent API tokens honour Idempotency-Key on POST and DELETE, and are never stored', async () => {
      const headers = { 'idempotency-key': 'create-token-0001' };
      const first = await agentA.post<Row & { token: string }>('/admin/api/tokens', { name: 'idem token' }, headers);
      expect(first.status).toBe(201);
      const again = await agentA.post<Row & { token: string | null }>(
        '/admin/api/tokens',
        { name: 'idem token' },
        headers,
      );
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual({ ...first.body, token: null });
      const listed = (await agentA.get<List>('/admin/api/tokens')).body.data.filter((t) => t.name === 'idem token');
      expect(listed).toHaveLength(1);
      expect(await grepDatabase(stack.db, first.body.token)).toEqual([]);
      expect(await grepDatabase(stack.db, sha256(first.body.token))).toEqual(['admin_tokens.token_hash']);
      const other = await agentA.post('/admin/api/tokens', { name: 'another' }, headers);
      expect(other.status).toBe(409);

      const del = { 'idempotency-key': 'revoke-token-0001' };
      const r1 = await agentA.call('DELETE', `/admin/api/tokens/${first.body.id}`, undefined, del);
      expect(r1.status).toBe(204);
      const r2 = await agentA.call('DELETE', `/admin/api/tokens/${first.body.id}`, undefined, del);
      expect(r2.status).toBe(204);
      expect(r2.headers.get('idempotent-replayed')).toBe('true');
      // without the key, a second revoke finds nothing to revoke
      expect((await agentA.delete(`/admin/api/tokens/${first.body.id}`)).status).toBe(404);
      expect((await new AdminClient(stack.url, first.body.token).get('/admin/api/auth/me')).status).toBe(401);
    });

    it('api_keys holds only SHA-256 hashes and admin passwords are argon2id hashes', async () => {
      const rows: Array<{ key_hash: string; prefix: string }> = await stack.db.query(
        'SELECT key_hash, prefix FROM api_keys WHERE id = $1',
        [keyA.id],
      );
      expect(rows).toEqual([{ key_hash: sha256(keyA.key), prefix: keyA.key.slice(0, 14) }]);
      expect(await grepDatabase(stack.db, keyA.key)).toEqual([]);
      const users: Array<{ email: string; password_hash: string }> = await stack.db.query(
        'SELECT email, password_hash FROM admin_users',
      );
      expect(users.length).toBeGreaterThanOrEqual(3);
      for (const u of users) expect(u.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
      for (const password of [ADMIN_PASSWORD, 'agent-a-password', 'agent-b-password'])
        expect({ password, found: await grepDatabase(stack.db, password) }).toEqual({ password, found: [] });
      expect(await grepDatabase(stack.db, admin.token!)).toEqual([]);
    });
  });

  describe('ids and numbers are checked before they reach Postgres', () => {
    // what a valid body for each id route looks like, so the id alone decides the answer
    const bodies: Record<string, unknown> = {
      'PATCH /admin/api/agents/{id}': { name: 'x' },
      'PATCH /admin/api/workspaces/{id}': { name: 'x' },
      'PUT /admin/api/workspaces/{id}/allowlist': { models: [] },
      'POST /admin/api/workspaces/{id}/keys': { name: 'x' },
      'PATCH /admin/api/keys/{id}': { name: 'x' },
      'POST /admin/api/workspaces/{id}/wallet/recharges': { amount: '1.00' },
      'POST /admin/api/agents/{id}/wallet/recharges': { amount: '1.00' },
    };

    it('every admin route with an {id} answers 404 not_found to an id that is not a UUID', async () => {
      const doc = (await admin.get<{ paths: Record<string, Record<string, unknown>> }>('/docs/openapi.json')).body;
      // catalog records (providers, models) are named by text ids, not UUIDs
      const routes = Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/admin/api/') && path.includes('{id}'))
        .filter(([path]) => !/^\/admin\/api\/(providers|models)\//.test(path))
        .flatMap(([path, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), path] as const));
      expect(routes.length).toBeGreaterThanOrEqual(20);
      for (const bad of ['not-a-uuid', "1' OR '1'='1", '0b9c3a52-1111-4c1d-8e8e-123456789abcd']) {
        for (const [method, path] of routes) {
          const route = `${method} ${path}`;
          const body = method === 'GET' || method === 'DELETE' ? undefined : (bodies[route] ?? {});
          const r = await admin.call(method, path.replace('{id}', encodeURIComponent(bad)), body);
          expect({ route, bad, status: r.status, code: (r.body as { error?: { code?: string } }).error?.code }).toEqual(
            {
              route,
              bad,
              status: 404,
              code: 'not_found',
            },
          );
        }
      }
      // and a malformed id in the token routes too (not in the OpenAPI paths filter above if renamed)
      expect((await agentA.delete('/admin/api/tokens/not-a-uuid')).status).toBe(404);
    });

    it('a query id or a cursor that is not what this API hands out is 400 bad_request with param', async () => {
      const q = await admin.get('/admin/api/workspaces?agent_id=foo');
      expect(q.status).toBe(400);
      expect(q.body).toMatchObject({ error: { code: 'bad_request', param: 'agent_id' } });
      const uuid = '0b9c3a52-1111-4c1d-8e8e-123456789abc';
      const cursors = [
        cursorOf('2025-01-01T00:00:00.000Z', 'foo'), // decoded id not a uuid
        cursorOf('1', uuid), // a time Date.parse accepts and Postgres does not
        cursorOf('2025-02-30T00:00:00.000Z', uuid), // no such day
        cursorOf('0000-01-01T00:00:00.000Z', uuid), // year 0
        'not base64 json',
      ];
      const lists = [
        '/admin/api/agents',
        '/admin/api/workspaces',
        `/admin/api/workspaces/${wsA}/keys`,
        '/admin/api/usage',
      ];
      for (const list of lists) {
        for (const cursor of cursors) {
          const r = await admin.get(`${list}?cursor=${encodeURIComponent(cursor)}`);
          expect({
            list,
            cursor,
            status: r.status,
            param: (r.body as { error?: { param?: string } }).error?.param,
          }).toEqual({ list, cursor, status: 400, param: 'cursor' });
        }
        // a real cursor still pages
        expect((await admin.get(`${list}?limit=1`)).status).toBe(200);
      }
      const page = await admin.get<List>('/admin/api/workspaces?limit=1');
      expect(page.body.next_cursor).toEqual(expect.any(String));
      expect((await admin.get(`/admin/api/workspaces?limit=1&cursor=${page.body.next_cursor}`)).status).toBe(200);
    });

    it('limits and amounts larger than their columns hold are 400 with param, never 500', async () => {
      const cases: Array<[string, string, Json, string]> = [
        ['PATCH', `/admin/api/workspaces/${wsA}`, { daily_spend: '999999999999' }, 'daily_spend'],
        ['POST', `/admin/api/workspaces/${wsA}/keys`, { name: 'big', daily_spend: '999999999999' }, 'daily_spend'],
        ['PATCH', `/admin/api/keys/${keyA.id}`, { daily_spend: '9223372036.854775808' }, 'daily_spend'],
        ['PATCH', `/admin/api/workspaces/${wsA}`, { storage_limit_bytes: 1e300 }, 'storage_limit_bytes'],
        ['PATCH', `/admin/api/workspaces/${wsA}`, { storage_limit_bytes: 2 ** 53 }, 'storage_limit_bytes'],
        ['PATCH', `/admin/api/workspaces/${wsA}`, { rpm: 'a' }, 'rpm'],
        ['PATCH', `/admin/api/workspaces/${wsA}`, { tpm: 2 ** 31 }, 'tpm'],
        ['POST', `/admin/api/workspaces/${wsA}/wallet/recharges`, { amount: '9223372036.86' }, 'amount'],
        ['POST', `/admin/api/agents/${agentAId}/wallet/recharges`, { amount: '99999999999999' }, 'amount'],
        // JSON numbers only when exact: 17 significant digits are not what the client may have written
        ['POST', `/admin/api/agents/${agentAId}/wallet/recharges`, { amount: 1234567.123456789 }, 'amount'],
        ['POST', `/admin/api/agents/${agentAId}/wallet/recharges`, { amount: 0.1234567891 }, 'amount'],
        ['POST', `/admin/api/workspaces/${wsA}/keys`, { name: 'x', expires_at: '2030-02-30T00:00:00Z' }, 'expires_at'],
        ['POST', `/admin/api/workspaces/${wsA}/keys`, { name: 'x', expires_at: '0000-01-01T00:00:00Z' }, 'expires_at'],
      ];
      for (const [method, path, body, param] of cases) {
        const r = await admin.call(method, path, body);
        expect({
          body,
          status: r.status,
          code: (r.body as any).error?.code,
          param: (r.body as any).error?.param,
        }).toEqual({
          body,
          status: 400,
          code: 'bad_request',
          param,
        });
      }
      const asNumber = await admin.call('POST', `/admin/api/agents/${agentAId}/wallet/recharges`, {
        amount: 1234567.123456789,
      });
      expect((asNumber.body as any).error.message).toMatch(/as a string/);
      // the largest value each column holds is accepted, and amounts as exact numbers or strings
      const ok: Array<[string, string, Json]> = [
        ['PATCH', `/admin/api/keys/${keyA.id}`, { daily_spend: '9223372036.854775807' }],
        ['PATCH', `/admin/api/keys/${keyA.id}`, { daily_spend: null }],
        ['PATCH', `/admin/api/workspaces/${wsB}`, { storage_limit_bytes: Number.MAX_SAFE_INTEGER, tpm: 2_000_000_000 }],
        ['POST', `/admin/api/agents/${agentBId}/wallet/recharges`, { amount: 0.1 }],
        ['POST', `/admin/api/agents/${agentBId}/wallet/recharges`, { amount: '123456789.123456789' }],
      ];
      for (const [method, path, body] of ok) {
        const r = await admin.call(method, path, body);
        expect({ body, status: r.status }).toEqual({ body, status: method === 'POST' ? 201 : 200 });
      }
      const ws = await admin.get<{ storage_limit_bytes: number }>(`/admin/api/workspaces/${wsB}`);
      expect(ws.body.storage_limit_bytes).toBe(Number.MAX_SAFE_INTEGER);
      const wallet = await agentB.get<{ balance: string }>(`/admin/api/agents/${agentBId}/wallet`);
      expect(wallet.body.balance).toBe('123456789.223456789');
    });

    it('login validates its body before passport: a non-string email or password is 400 with param', async () => {
      const anon = new AdminClient(stack.url);
      const cases: Array<[unknown, string | null]> = [
        [{ email: 1, password: 2 }, 'email'],
        [{ email: ADMIN_EMAIL, password: 2 }, 'password'],
        [{ email: ['a'], password: 'x' }, 'email'],
      ];
      for (const [body, param] of cases) {
        const r = await anon.post('/admin/api/auth/login', body);
        expect({ body, status: r.status, error: (r.body as any).error }).toEqual({
          body,
          status: 400,
          error: expect.objectContaining({ code: 'bad_request', param }),
        });
      }
    });
  });
});
