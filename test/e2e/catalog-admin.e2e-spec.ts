// The catalog written through the admin API, as a platform admin's script does it: a provider pointed at
// the demo upstream and a model on it serve /v1 within seconds of their creation and of every edit (the
// catalog snapshot is invalidated across processes), names and fallbacks are checked, agents are kept
// out, and the provider's secrets (api_key, header values) never come back or sit in the database in clear.
import OpenAI from 'openai';
import { AdminClient, Json } from './helpers/admin-client';
import { lastUpstream, nanos, sdkTenant } from './helpers/sdk-setup';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';
import { waitFor } from './helpers/wait';

const API_KEY = 'sk-acme-upstream-key-9f8e7d';
const HEADER_SECRET = 'azure-style-api-key-4c3b2a';
const SECRETS = [API_KEY, HEADER_SECRET];

interface ModelRecord extends Json {
  id: string;
  price: Record<string, string>;
  routes: Array<Record<string, unknown>>;
  fallbacks: string[];
  created_at: string;
  updated_at: string;
}

interface ModelEntry {
  id: string;
  pricing: Record<string, string>;
}

describe('catalog admin API', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let agent: AdminClient;
  let openai: OpenAI;

  /** The model as GET /v1/models/{id} shows it to a key, or undefined while the gateway does not serve it. */
  const served = async (id: string): Promise<ModelEntry | undefined> => {
    try {
      return (await openai.models.retrieve(id)) as unknown as ModelEntry;
    } catch {
      return undefined;
    }
  };

  const chat = (model: string, content: string) =>
    openai.chat.completions.create({ model, messages: [{ role: 'user', content }], max_tokens: 50 }).withResponse();

  beforeAll(async () => {
    stack = await startStack();
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const tenant = await sdkTenant(stack);
    agent = tenant.agent.client;
    openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: tenant.key, maxRetries: 0 });
  });
  afterAll(() => stack.close());

  it('a platform admin creates a provider and a model on it, which /v1 serves within seconds', async () => {
    const p = await admin.post('/admin/api/providers', {
      id: 'acme',
      kind: 'openai',
      base_url: `${stack.upstream.url}/v1`,
      api_key: API_KEY,
      timeout_ms: 30000,
      quirks: { headers: { 'api-key': HEADER_SECRET, 'x-acme-org': 'org-7' }, drop_params: ['seed'] },
    });
    expect(p.status).toBe(201);
    expect(p.body).toMatchObject({
      id: 'acme',
      has_api_key: true,
      quirks: { headers: { 'api-key': '[redacted]', 'x-acme-org': '[redacted]' }, drop_params: ['seed'] },
    });

    const created = Date.now();
    const m = await admin.post<ModelRecord>('/admin/api/models', {
      id: 'acme-chat',
      kind: 'chat',
      owned_by: 'acme',
      aliases: ['acme/chat-latest'],
      capabilities: { tools: true, max_output_tokens: 1000 },
      price: { input_per_mtok: '1.00', output_per_mtok: '2.00' },
      routes: [{ provider: 'acme', model: 'acme-upstream-v1' }],
    });
    expect(m.status).toBe(201);
    expect(Date.parse(m.body.created_at)).toBeGreaterThan(0);

    const entry = await waitFor(() => served('acme-chat'));
    expect(Date.now() - created).toBeLessThan(5000);
    expect(entry.pricing).toMatchObject({ input_per_mtok: '1.00', output_per_mtok: '2.00' });

    const { data, response } = await chat('acme/chat-latest', 'Hello new provider');
    expect(data.choices[0].message.content).toMatch(/^Demo reply to "Hello new provider":/);
    const up = lastUpstream(stack);
    expect(up.body.model).toBe('acme-upstream-v1');
    // the snapshot carries the decrypted secrets to the upstream call
    expect(up.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(up.headers['api-key']).toBe(HEADER_SECRET);
    expect(up.headers['x-acme-org']).toBe('org-7');
    const u = data.usage!;
    expect(nanos(response.headers.get('x-credits-used')!)).toBe(
      1000n * BigInt(u.prompt_tokens) + 2000n * BigInt(u.completion_tokens),
    );
  });

  it('PATCH edits price and routes, answers the stored row, and chat completions follow within seconds', async () => {
    const before = await admin.get<ModelRecord>('/admin/api/models/acme-chat');
    const patched = Date.now();
    const r = await admin.patch<ModelRecord>('/admin/api/models/acme-chat', {
      price: { input_per_mtok: '4.00', output_per_mtok: '8.00' },
      routes: [{ provider: 'acme', model: 'acme-upstream-v2' }],
    });
    expect(r.status).toBe(200);
    expect(r.body.price).toEqual({ input_per_mtok: '4.00', output_per_mtok: '8.00' });
    expect(r.body.routes).toEqual([{ provider: 'acme', model: 'acme-upstream-v2', priority: 0, weight: 1 }]);
    expect(r.body.created_at).toBe(before.body.created_at);
    expect(Date.parse(r.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(before.body.updated_at));
    expect((await admin.get<ModelRecord>('/admin/api/models/acme-chat')).body).toEqual(r.body);

    await waitFor(async () => (await served('acme-chat'))?.pricing.input_per_mtok === '4.00');
    expect(Date.now() - patched).toBeLessThan(5000);
    const { data, response } = await chat('acme-chat', 'Priced again');
    expect(lastUpstream(stack).body.model).toBe('acme-upstream-v2');
    const u = data.usage!;
    expect(nanos(response.headers.get('x-credits-used')!)).toBe(
      4000n * BigInt(u.prompt_tokens) + 8000n * BigInt(u.completion_tokens),
    );
  });

  it('PATCH on a provider keeps header values sent back redacted, or left out, and replaces the others', async () => {
    const r = await admin.patch('/admin/api/providers/acme', {
      quirks: { headers: { 'api-key': '[redacted]', 'x-acme-org': 'org-8' } },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ quirks: { headers: { 'api-key': '[redacted]', 'x-acme-org': '[redacted]' } } });
    await waitFor(async () => {
      await chat('acme-chat', 'Which org?');
      return lastUpstream(stack).headers['x-acme-org'] === 'org-8';
    });
    expect(lastUpstream(stack).headers['api-key']).toBe(HEADER_SECRET);

    expect((await admin.patch('/admin/api/providers/acme', { timeout_ms: 20000 })).status).toBe(200);
    await chat('acme-chat', 'Still keyed?');
    expect(lastUpstream(stack).headers['api-key']).toBe(HEADER_SECRET);

    const nothingToKeep = await admin.patch('/admin/api/providers/acme', {
      quirks: { headers: { 'x-unknown': '[redacted]' } },
    });
    expect(nothingToKeep.status).toBe(400);
    expect(nothingToKeep.body).toMatchObject({ error: { code: 'bad_request', param: 'quirks.headers.x-unknown' } });
  });

  it('refuses fallbacks to unknown models and names another model has (400 bad_request with param)', async () => {
    const model = (extra: Json) => ({
      kind: 'chat',
      owned_by: 'acme',
      price: { input_per_mtok: '1.00' },
      routes: [{ provider: 'acme', model: 'acme-upstream-v1' }],
      ...extra,
    });
    const cases: Array<[Promise<{ status: number; body: Json }>, string]> = [
      [admin.post('/admin/api/models', model({ id: 'acme-b', fallbacks: ['no-such-model'] })), 'fallbacks.0'],
      [admin.patch('/admin/api/models/acme-chat', { fallbacks: ['gpt-4o', 'no-such-model'] }), 'fallbacks.1'],
      [admin.patch('/admin/api/models/acme-chat', { fallbacks: ['acme/chat-latest'] }), 'fallbacks.0'],
      [admin.post('/admin/api/models', model({ id: 'acme-c', aliases: ['gpt-4o'] })), 'aliases.0'],
      [
        admin.post('/admin/api/models', model({ id: 'acme-d', aliases: ['x', 'anthropic/claude-sonnet-4.6'] })),
        'aliases.1',
      ],
      [admin.post('/admin/api/models', model({ id: 'acme/chat-latest' })), 'id'],
      [admin.patch('/admin/api/models/acme-chat', { aliases: ['gpt-4o-mini'] }), 'aliases.0'],
      [admin.patch('/admin/api/models/acme-chat', { routes: [{ provider: 'nope', model: 'm' }] }), 'routes.0.provider'],
    ];
    for (const [reply, param] of cases) {
      const r = await reply;
      expect({ status: r.status, error: r.body.error }).toEqual({
        status: 400,
        error: expect.objectContaining({ code: 'bad_request', param }),
      });
    }
    const unchanged = await admin.get<ModelRecord>('/admin/api/models/acme-chat');
    expect(unchanged.body.fallbacks).toEqual([]);
    expect(unchanged.body.aliases).toEqual(['acme/chat-latest']);
    expect((await admin.get('/admin/api/models/acme-b')).status).toBe(404);

    // a fallback may name a model by id or alias
    const ok = await admin.patch<ModelRecord>('/admin/api/models/acme-chat', {
      fallbacks: ['gpt-4o-mini', 'anthropic/claude-sonnet-4.6'],
    });
    expect(ok.status).toBe(200);
    expect(ok.body.fallbacks).toEqual(['gpt-4o-mini', 'anthropic/claude-sonnet-4.6']);
  });

  it('gives an agent 403 on every catalog route, by session and by agent API token', async () => {
    const token = await agent.post<{ token: string }>('/admin/api/tokens', { name: 'catalog probe' });
    expect(token.status).toBe(201);
    const byToken = new AdminClient(stack.url, token.body.token);
    const provider = { id: 'rogue', kind: 'openai', base_url: 'http://example.test/v1' };
    const model = { id: 'rogue', kind: 'chat', owned_by: 'x', routes: [{ provider: 'acme', model: 'm' }] };
    for (const caller of [agent, byToken]) {
      const replies = await Promise.all([
        caller.get('/admin/api/providers'),
        caller.get('/admin/api/providers/acme'),
        caller.post('/admin/api/providers', provider),
        caller.patch('/admin/api/providers/acme', { timeout_ms: 1000 }),
        caller.get('/admin/api/models'),
        caller.get('/admin/api/models/acme-chat'),
        caller.post('/admin/api/models', model),
        caller.patch('/admin/api/models/acme-chat', { price: { input_per_mtok: '0.00' } }),
      ]);
      for (const r of replies) {
        expect(r.status).toBe(403);
        expect(r.body).toMatchObject({ error: { code: 'forbidden' } });
      }
    }
    expect((await admin.get('/admin/api/providers/rogue')).status).toBe(404);
    expect((await admin.get<ModelRecord>('/admin/api/models/acme-chat')).body.price.input_per_mtok).toBe('4.00');
    expect((await admin.get<ModelRecord>('/admin/api/providers/acme')).body.timeout_ms).toBe(20000);
  });

  it('never shows api_key or header secrets in clear, and never stores them in clear', async () => {
    const list = await admin.get('/admin/api/providers');
    const one = await admin.get('/admin/api/providers/acme');
    for (const text of [JSON.stringify(list.body), JSON.stringify(one.body)]) {
      for (const s of SECRETS) expect(text).not.toContain(s);
      expect(text).not.toContain('sk-upstream-openai-secret'); // the catalog file's key of `openai`
    }
    expect(one.body).toMatchObject({ quirks: { headers: { 'api-key': '[redacted]' } } });
    expect(one.body).not.toHaveProperty('api_key');
    expect(one.body).not.toHaveProperty('api_key_enc');

    const rows: Array<{ row: string }> = await stack.db.query(`SELECT row_to_json(p)::text AS row FROM providers p`);
    const stored = rows.map((r) => r.row).join('\n');
    for (const s of [...SECRETS, 'sk-upstream-openai-secret', 'org-8']) expect(stored).not.toContain(s);
    const [acme]: Array<{ quirks: Json; secret_headers: Record<string, string> }> = await stack.db.query(
      `SELECT quirks, secret_headers FROM providers WHERE id = 'acme'`,
    );
    expect(acme.quirks).not.toHaveProperty('headers');
    expect(Object.keys(acme.secret_headers).sort()).toEqual(['api-key', 'x-acme-org']);
    expect(acme.secret_headers['api-key']).toMatch(/^v1\./);
  });

  it('seals, at start, headers an older version stored in clear in quirks', async () => {
    await stack.db.query(`INSERT INTO providers (id, kind, base_url, quirks) VALUES ('legacy', 'openai', $1, $2)`, [
      `${stack.upstream.url}/v1`,
      JSON.stringify({ headers: { 'api-key': 'legacy-clear-secret' }, supports_n: true }),
    ]);
    const peer = await stack.startPeer();
    const [row]: Array<{ quirks: Json; secret_headers: Record<string, string> }> = await stack.db.query(
      `SELECT quirks, secret_headers FROM providers WHERE id = 'legacy'`,
    );
    expect(row.quirks).toEqual({ supports_n: true });
    expect(JSON.stringify(row.secret_headers)).not.toContain('legacy-clear-secret');

    // a key (the demo wants one) set through the API: the sealed headers stay as they are
    expect((await admin.patch('/admin/api/providers/legacy', { api_key: 'sk-legacy-key' })).status).toBe(200);
    const m = await admin.post('/admin/api/models', {
      id: 'legacy-chat',
      kind: 'chat',
      owned_by: 'legacy',
      price: { input_per_mtok: '1.00' },
      routes: [{ provider: 'legacy', model: 'legacy-upstream' }],
    });
    expect(m.status).toBe(201);
    const viaPeer = new OpenAI({ baseURL: `${peer.url}/v1`, apiKey: openai.apiKey, maxRetries: 0 });
    await waitFor(async () => viaPeer.models.retrieve('legacy-chat').catch(() => undefined));
    await viaPeer.chat.completions.create({ model: 'legacy-chat', messages: [{ role: 'user', content: 'Old' }] });
    expect(lastUpstream(stack).headers['api-key']).toBe('legacy-clear-secret');
  });
});
