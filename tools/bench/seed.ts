// The bench tenant, made the way an operator would: through the admin API (platform admin from
// ADMIN_EMAIL/ADMIN_PASSWORD -> agent -> workspace -> credit -> key), plus a model with no price.
export interface BenchTenant {
  key: string;
  /** a second key of the workspace with a tpm cap (never reached): checked in Redis on every request */
  tpmKey: string;
  workspaceId: string;
  adminToken: string;
}

async function call<T>(
  base: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed as T };
}

async function expect<T>(what: string, p: Promise<{ status: number; body: T }>, status: number): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function login(base: string, email: string, password: string): Promise<string> {
  const r = await expect<{ token: string }>(
    `login ${email}`,
    call(base, null, 'POST', '/admin/api/auth/login', { email, password }),
    200,
  );
  return r.token;
}

export async function seedTenant(
  base: string,
  admin: { email: string; password: string },
  credit: string,
): Promise<BenchTenant> {
  const adminToken = await login(base, admin.email, admin.password);
  const email = `bench-agent-${Date.now()}@bench.switchyard.local`;
  const password = 'bench-agent-password';
  await expect(
    'create agent',
    call(base, adminToken, 'POST', '/admin/api/agents', { name: 'Bench agent', email, password }),
    201,
  );
  const agentToken = await login(base, email, password);
  const ws = await expect<{ id: string }>(
    'create workspace',
    call(base, agentToken, 'POST', '/admin/api/workspaces', { name: 'Bench workspace' }),
    201,
  );
  await expect(
    'credit the workspace',
    call(base, adminToken, 'POST', `/admin/api/workspaces/${ws.id}/wallet/recharges`, {
      amount: credit,
      note: 'benchmark credit',
    }),
    201,
  );
  const k = await expect<{ key: string }>(
    'create key',
    call(base, agentToken, 'POST', `/admin/api/workspaces/${ws.id}/keys`, { name: 'bench key' }),
    201,
  );
  const capped = await expect<{ key: string }>(
    'create key with a tpm cap',
    call(base, agentToken, 'POST', `/admin/api/workspaces/${ws.id}/keys`, {
      name: 'bench key, tpm cap',
      tpm: 2_000_000_000,
    }),
    201,
  );
  return { key: k.key, tpmKey: capped.key, workspaceId: ws.id, adminToken };
}

/** A chat model with no price (the pipeline places no hold), routed like gpt-4o-mini. */
export async function createFreeModel(base: string, adminToken: string, id: string): Promise<void> {
  await expect(
    `create model ${id}`,
    call(base, adminToken, 'POST', '/admin/api/models', {
      id,
      kind: 'chat',
      owned_by: 'bench',
      capabilities: { vision: true, tools: true, json_mode: true, context_length: 128000, max_output_tokens: 16384 },
      routes: [{ provider: 'openai', model: 'gpt-4o-mini' }],
    }),
    201,
  );
}

/** The workspace balance as the admin API shows it (to confirm that priced requests were charged). */
export async function walletOf(base: string, adminToken: string, workspaceId: string): Promise<unknown> {
  const r = await call<unknown>(base, adminToken, 'GET', `/admin/api/workspaces/${workspaceId}/wallet`);
  return r.status === 200 ? r.body : { status: r.status, body: r.body };
}
