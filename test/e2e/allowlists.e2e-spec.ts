// Model allowlists as clients and admins meet them (DESIGN.md "Errors", "Admin API"): 403
// model_not_allowed on every model-taking /v1 endpoint, /v1/models filtered, wildcards, the intersection
// of the agent's, workspace's and key's lists, an agent's restriction binding its existing keys within
// seconds (on every process), an agent unable to grant beyond its own list, empty lists meaning no
// restriction, and fallbacks that are never models the caller may not use.
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

type Peer = Awaited<ReturnType<TestStack['startPeer']>>;

interface Res {
  status: number;
  headers: Headers;
  body: any;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(base: string, path: string, key: string, body?: unknown): Promise<Res> {
  const res = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

const chat = (base: string, key: string, model: string, content = 'hi') =>
  call(base, '/v1/chat/completions', key, { model, messages: [{ role: 'user', content }], max_tokens: 8 });
const messages = (base: string, key: string, model: string) =>
  call(base, '/v1/messages', key, { model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
const embed = (base: string, key: string, model: string) => call(base, '/v1/embeddings', key, { model, input: 'hi' });

async function listed(base: string, key: string): Promise<string[]> {
  const r = await call(base, '/v1/models', key);
  expect(r.status).toBe(200);
  return (r.body.data as Array<{ id: string }>).map((m) => m.id).sort();
}

function expectNotAllowed(r: Res, model: string): void {
  expect(r.status).toBe(403);
  expect(r.body).toEqual({
    error: { message: expect.any(String), type: 'permission_error', param: 'model', code: 'model_not_allowed' },
  });
  expect(r.body.error.message).toContain(model);
}

/** Repeats `probe` every 100 ms until `done` holds; how long it took (ms), or Infinity after `maxMs`. */
async function timeUntil(
  probe: () => Promise<Res>,
  done: (r: Res) => boolean,
  maxMs = 12_000,
): Promise<{ ms: number; last: Res }> {
  const t = performance.now();
  let last = await probe();
  while (!done(last)) {
    if (performance.now() - t > maxMs) return { ms: Infinity, last };
    await sleep(100);
    last = await probe();
  }
  return { ms: performance.now() - t, last };
}

const ALL_CHAT_AND_EMBEDDING = [
  'claude-haiku-4-5',
  'claude-opus-4-7',
  'claude-sonnet-4-6',
  'deepseek-v3.2',
  'gemini-3-flash',
  'gemini-3-pro',
  'gpt-4o',
  'gpt-4o-mini',
  'qwen3-vl-embedding-8b',
  'text-embedding-3-large',
  'text-embedding-3-small',
];

describe('model allowlists', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let peer: Peer;
  /** one agent for the tests that restrict only workspaces and keys (admin sign-ins are throttled) */
  let shared: Tenant;

  beforeAll(async () => {
    stack = await startStack();
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    peer = await stack.startPeer();
    shared = await createTenant(admin);
  });
  afterAll(() => stack.close());

  /** A funded workspace of `under`'s agent, with one key carrying `key` settings. */
  async function workspaceOf(under: Tenant, key: Record<string, unknown> = {}): Promise<Tenant> {
    const ws = await under.agent.client.post<{ id: string }>('/admin/api/workspaces', { name: `ws ${Date.now()}` });
    expect(ws.status).toBe(201);
    expect((await admin.post(`/admin/api/workspaces/${ws.body.id}/wallet/recharges`, { amount: '10.00' })).status).toBe(
      201,
    );
    const k = await under.agent.client.post<{ id: string; key: string }>(`/admin/api/workspaces/${ws.body.id}/keys`, {
      name: 'k',
      ...key,
    });
    expect(k.status).toBe(201);
    return { ...under, workspace: { id: ws.body.id }, key: k.body.key, keyId: k.body.id };
  }

  it('refuses a model outside the key allowlist with 403 model_not_allowed on every endpoint, and lists only allowed models', async () => {
    const t = await workspaceOf(shared, { allowlist: ['gpt-4o-mini', 'text-embedding-3-small'] });
    expectNotAllowed(await chat(stack.url, t.key, 'gpt-4o'), 'gpt-4o');
    expectNotAllowed(
      await call(stack.url, '/api/v1/chat/completions', t.key, {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      'gpt-4o',
    );
    expectNotAllowed(await embed(stack.url, t.key, 'text-embedding-3-large'), 'text-embedding-3-large');
    expectNotAllowed(await call(stack.url, '/v1/models/gpt-4o', t.key), 'gpt-4o');
    expectNotAllowed(
      await call(stack.url, '/v1/models/anthropic/claude-sonnet-4.5', t.key),
      'anthropic/claude-sonnet-4.5',
    );
    // the Anthropic surface answers in Anthropic's envelope
    for (const r of [
      await messages(stack.url, t.key, 'claude-sonnet-4-6'),
      await call(stack.url, '/v1/messages/count_tokens', t.key, {
        model: 'claude-sonnet-4-6',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ]) {
      expect(r.status).toBe(403);
      expect(r.body).toEqual({
        type: 'error',
        error: { type: 'permission_error', message: expect.stringContaining('claude-sonnet-4-6') },
      });
    }
    // a model that does not exist is another error
    expect((await chat(stack.url, t.key, 'no-such-model')).body.error.code).toBe('model_not_found');

    // what is allowed works, on every endpoint
    expect((await chat(stack.url, t.key, 'gpt-4o-mini')).status).toBe(200);
    expect((await chat(stack.url, t.key, 'openai/gpt-4o-mini')).status).toBe(200);
    expect((await messages(stack.url, t.key, 'gpt-4o-mini')).status).toBe(200);
    expect((await embed(stack.url, t.key, 'text-embedding-3-small')).status).toBe(200);
    const one = await call(stack.url, '/v1/models/gpt-4o-mini', t.key);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe('gpt-4o-mini');
    expect(await listed(stack.url, t.key)).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
    // a key without a list sees the whole catalog
    const free = await workspaceOf(shared);
    expect(await listed(stack.url, free.key)).toEqual(ALL_CHAT_AND_EMBEDDING);
  });

  it("matches wildcards against a model's id, aliases and provider-prefixed name", async () => {
    const anthropic = await workspaceOf(shared, { allowlist: ['anthropic/*'] });
    expect(await listed(stack.url, anthropic.key)).toEqual([
      'claude-haiku-4-5',
      'claude-opus-4-7',
      'claude-sonnet-4-6',
    ]);
    expect((await chat(stack.url, anthropic.key, 'claude-haiku-4-5')).status).toBe(200);
    expect((await chat(stack.url, anthropic.key, 'anthropic/claude-sonnet-4.5')).status).toBe(200);
    expect((await messages(stack.url, anthropic.key, 'claude-haiku-4-5')).status).toBe(200);
    expect((await call(stack.url, '/v1/models/anthropic/claude-sonnet-4.5', anthropic.key)).status).toBe(200);
    expectNotAllowed(await chat(stack.url, anthropic.key, 'gpt-4o-mini'), 'gpt-4o-mini');
    expectNotAllowed(await chat(stack.url, anthropic.key, 'gemini-3-flash'), 'gemini-3-flash');

    const gpt4o = await workspaceOf(shared, { allowlist: ['gpt-4o*'] });
    expect(await listed(stack.url, gpt4o.key)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect((await chat(stack.url, gpt4o.key, 'gpt-4o')).status).toBe(200);
    expect((await chat(stack.url, gpt4o.key, 'gpt-4o-mini')).status).toBe(200);
    expectNotAllowed(await chat(stack.url, gpt4o.key, 'deepseek-v3.2'), 'deepseek-v3.2');
    // '*' matches any run of characters, and nothing else is special ('.' is literal)
    const exact = await workspaceOf(shared, { allowlist: ['gpt.4o-mini'] });
    expectNotAllowed(await chat(stack.url, exact.key, 'gpt-4o-mini'), 'gpt-4o-mini');
  });

  it('allows only what the agent, the workspace and the key all allow', async () => {
    const t = await createTenant(admin);
    const agent = await admin.patch<{ allowlist: string[] }>(`/admin/api/agents/${t.agent.id}`, {
      allowlist: ['gpt-4o*', 'anthropic/*'],
    });
    expect(agent.status).toBe(200);
    expect(agent.body.allowlist).toEqual(['gpt-4o*', 'anthropic/*']);
    const ws = await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, {
      models: ['gpt-4o', 'gpt-4o-mini', 'anthropic/claude-haiku-4-5'],
    });
    expect(ws.status).toBe(200);
    expect(ws.body).toEqual({
      workspace_id: t.workspace.id,
      models: ['gpt-4o', 'gpt-4o-mini', 'anthropic/claude-haiku-4-5'],
    });
    expect(
      (await t.agent.client.patch(`/admin/api/keys/${t.keyId}`, { allowlist: ['gpt-4o-mini', 'anthropic/*'] })).status,
    ).toBe(200);

    const allowed = await timeUntil(
      () => call(stack.url, '/v1/models', t.key),
      (r) => r.body?.data?.length === 2,
    );
    expect(allowed.ms).toBeLessThan(3000);
    expect(await listed(stack.url, t.key)).toEqual(['claude-haiku-4-5', 'gpt-4o-mini']);
    expect((await chat(stack.url, t.key, 'gpt-4o-mini')).status).toBe(200);
    expect((await chat(stack.url, t.key, 'anthropic/claude-haiku-4.5')).status).toBe(200);
    expectNotAllowed(await chat(stack.url, t.key, 'gpt-4o'), 'gpt-4o'); // agent and workspace: yes; key: no
    expectNotAllowed(await chat(stack.url, t.key, 'claude-sonnet-4-6'), 'claude-sonnet-4-6'); // workspace: no
    expectNotAllowed(await chat(stack.url, t.key, 'deepseek-v3.2'), 'deepseek-v3.2'); // agent: no

    // another key of the same workspace, without a list of its own: the workspace and agent still bind
    const second = await t.agent.client.post<{ key: string }>(`/admin/api/workspaces/${t.workspace.id}/keys`, {
      name: 'second',
    });
    expect(await listed(stack.url, second.body.key)).toEqual(['claude-haiku-4-5', 'gpt-4o', 'gpt-4o-mini']);
  });

  it("binds an agent's existing keys within seconds when a platform admin restricts the agent, and refuses grants beyond it", async () => {
    const t = await createTenant(admin);
    const keyed = await workspaceOf(t, { allowlist: ['claude-sonnet-4-6', 'gpt-4o-mini'] });
    // warm both processes' key caches
    for (const base of [stack.url, peer.url]) {
      expect((await chat(base, t.key, 'claude-sonnet-4-6')).status).toBe(200);
      expect((await chat(base, keyed.key, 'claude-sonnet-4-6')).status).toBe(200);
    }
    // an agent cannot change its own allowlist
    expect((await t.agent.client.patch(`/admin/api/agents/${t.agent.id}`, { allowlist: ['*'] })).status).toBe(403);

    expect(
      (await admin.patch(`/admin/api/agents/${t.agent.id}`, { allowlist: ['gpt-4o-mini', 'text-embedding-3-small'] }))
        .status,
    ).toBe(200);
    for (const base of [peer.url, stack.url]) {
      for (const key of [t.key, keyed.key]) {
        const bound = await timeUntil(
          () => chat(base, key, 'claude-sonnet-4-6'),
          (r) => r.status !== 200,
        );
        expect(bound.ms).toBeLessThan(3000);
        expectNotAllowed(bound.last, 'claude-sonnet-4-6');
      }
    }
    expect(await listed(peer.url, t.key)).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
    expect(await listed(peer.url, keyed.key)).toEqual(['gpt-4o-mini']);
    expect((await chat(peer.url, keyed.key, 'gpt-4o-mini')).status).toBe(200);

    // the agent cannot grant beyond its own list, at any level, and nothing is saved
    const refusals = [
      await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, {
        models: ['gpt-4o-mini', 'claude-sonnet-4-6'],
      }),
      await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, { models: ['*'] }),
      await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, { models: ['gpt-4o*'] }), // broader than gpt-4o-mini
      await t.agent.client.patch(`/admin/api/keys/${t.keyId}`, { allowlist: ['gpt-4o'] }),
      await t.agent.client.post(`/admin/api/workspaces/${t.workspace.id}/keys`, {
        name: 'wider',
        allowlist: ['deepseek-v3.2'],
      }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    for (const r of refusals) expect((r.body as { error: { code: string } }).error.code).toBe('model_not_allowed');
    expect((refusals[0].body as { error: { param: string; message: string } }).error).toMatchObject({
      param: 'models',
      message: expect.stringContaining('claude-sonnet-4-6'),
    });
    expect((refusals[3].body as { error: { param: string } }).error.param).toBe('allowlist');
    expect((await t.agent.client.get(`/admin/api/workspaces/${t.workspace.id}`)).body.allowlist).toBeNull();
    expect((await t.agent.client.get(`/admin/api/keys/${t.keyId}`)).body.allowlist).toBeNull();
    expect((await t.agent.client.get(`/admin/api/workspaces/${t.workspace.id}/keys`)).body.data).toHaveLength(1);
    // within its list it may narrow
    const narrowed = await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, {
      models: ['gpt-4o-mini'],
    });
    expect(narrowed.status).toBe(200);

    // an empty list lifts the agent's restriction: what the workspace and key allow comes back
    const lifted = await admin.patch<{ allowlist: unknown }>(`/admin/api/agents/${t.agent.id}`, { allowlist: [] });
    expect(lifted.status).toBe(200);
    expect(lifted.body.allowlist).toBeNull();
    for (const base of [peer.url, stack.url]) {
      const back = await timeUntil(
        () => chat(base, keyed.key, 'claude-sonnet-4-6'),
        (r) => r.status === 200,
      );
      expect(back.ms).toBeLessThan(3000);
    }
  });

  it("lets an agent grant a model of its list by any of the model's names", async () => {
    // 'anthropic/*' admits claude-haiku-4-5 (its provider-prefixed name matches); granting it by its id
    // or alias grants nothing beyond the agent's own list
    const t = await createTenant(admin);
    expect(
      (await admin.patch(`/admin/api/agents/${t.agent.id}`, { allowlist: ['anthropic/*', 'gpt-4o-mini'] })).status,
    ).toBe(200);
    // a wildcard only when the agent's own patterns cover every name it can match
    for (const models of [['*anthropic/*'], ['*/claude-*'], ['*mini']]) {
      const r = await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, { models });
      expect([models, r.status]).toEqual([models, 403]);
    }
    const ws = await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, {
      models: ['claude-haiku-4-5', 'anthropic/claude-sonnet-4.5'],
    });
    expect(ws.status).toBe(200);
    const key = await t.agent.client.patch(`/admin/api/keys/${t.keyId}`, {
      allowlist: ['claude-haiku-4-5', 'openai/gpt-4o-mini'],
    });
    expect(key.status).toBe(200);
    const effective = await timeUntil(
      () => call(stack.url, '/v1/models', t.key),
      (r) => r.body?.data?.length === 1,
    );
    expect(effective.ms).toBeLessThan(3000);
    expect(await listed(stack.url, t.key)).toEqual(['claude-haiku-4-5']);
    expect((await chat(stack.url, t.key, 'claude-haiku-4-5')).status).toBe(200);

    // the other way round: an agent allowed one model by its id may grant it by its alias
    expect((await admin.patch(`/admin/api/agents/${t.agent.id}`, { allowlist: ['claude-haiku-4-5'] })).status).toBe(
      200,
    );
    expect(
      (
        await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, {
          models: ['anthropic/claude-haiku-4.5'],
        })
      ).status,
    ).toBe(200);
    // still nothing beyond it: another model, or a wildcard wider than the one model
    for (const models of [['claude-sonnet-4-6'], ['anthropic/*'], ['claude-*']]) {
      const r = await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, { models });
      expect(r.status).toBe(403);
      expect((r.body as { error: { code: string } }).error.code).toBe('model_not_allowed');
    }
  });

  it('treats an empty or absent list as no restriction, applied within seconds', async () => {
    const t = await workspaceOf(shared, { allowlist: ['gpt-4o-mini'] });
    expectNotAllowed(await chat(stack.url, t.key, 'gpt-4o'), 'gpt-4o');
    expectNotAllowed(await chat(peer.url, t.key, 'gpt-4o'), 'gpt-4o');

    const cleared = await t.agent.client.patch<{ allowlist: unknown }>(`/admin/api/keys/${t.keyId}`, { allowlist: [] });
    expect(cleared.status).toBe(200);
    expect(cleared.body.allowlist).toBeNull();
    const freed = await timeUntil(
      () => chat(peer.url, t.key, 'gpt-4o'),
      (r) => r.status === 200,
    );
    expect(freed.ms).toBeLessThan(3000);
    expect(await listed(stack.url, t.key)).toEqual(ALL_CHAT_AND_EMBEDDING);

    // the workspace's list: set, then removed by an empty list, then set and removed by an absent one
    for (const removal of [{ models: [] }, {}]) {
      expect(
        (await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, { models: ['deepseek-v3.2'] }))
          .status,
      ).toBe(200);
      const set = await timeUntil(
        () => chat(peer.url, t.key, 'gpt-4o'),
        (r) => r.status === 403,
      );
      expect(set.ms).toBeLessThan(3000);
      expect(await listed(peer.url, t.key)).toEqual(['deepseek-v3.2']);
      const removed = await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, removal);
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual({ workspace_id: t.workspace.id, models: [] });
      const open = await timeUntil(
        () => chat(peer.url, t.key, 'gpt-4o'),
        (r) => r.status === 200,
      );
      expect(open.ms).toBeLessThan(3000);
    }
  });

  it('never falls back to a model outside the allowlist', async () => {
    // control: without a list, gpt-4o-mini's failing route falls back to deepseek-v3.2 (catalog/default.yaml)
    const free = await workspaceOf(shared);
    const fellBack = await chat(stack.url, free.key, 'gpt-4o-mini', 'control [[demo: status=503, fail_count=1]]');
    expect(fellBack.status).toBe(200);
    expect(fellBack.headers.get('x-model-used')).toBe('deepseek-v3.2');
    expect(fellBack.headers.get('x-fallback-from')).toBe('gpt-4o-mini');

    // the key may use gpt-4o-mini only: its route fails and there is nothing else it may use
    for (const level of ['key', 'workspace'] as const) {
      const t = level === 'key' ? await workspaceOf(shared, { allowlist: ['gpt-4o-mini'] }) : await workspaceOf(shared);
      if (level === 'workspace')
        expect(
          (await t.agent.client.put(`/admin/api/workspaces/${t.workspace.id}/allowlist`, { models: ['gpt-4o-mini'] }))
            .status,
        ).toBe(200);
      const mark = stack.upstream.requests.at(-1)?.id ?? 0;
      const r = await chat(
        stack.url,
        t.key,
        'gpt-4o-mini',
        `restricted ${level} [[demo: status=503, fail_count=1, tokens=${level.length}]]`,
      );
      expect(r.status).toBe(502);
      expect(r.body.error.code).toBe('upstream_error');
      expect(r.headers.get('x-model-used')).toBeNull();
      const reached = stack.upstream.requests
        .filter((q) => q.id > mark)
        .map((q) => (q.body as { model?: string }).model);
      expect(reached).toEqual(['gpt-4o-mini']); // deepseek-chat was never called
      // and nothing was charged: the hold is released (just after the response) and the balance is whole
      const wallet = () =>
        admin.get<{ balance: string; held: string }>(`/admin/api/workspaces/${t.workspace.id}/wallet`);
      const released = await timeUntil(wallet, (w) => Number(w.body.held) === 0, 3000);
      expect(released.ms).toBeLessThan(3000);
      expect(Number(released.last.body.balance)).toBe(10);
    }
  });
});
