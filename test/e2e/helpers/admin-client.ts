// The admin API as a user's script calls it: fetch, JSON, bearer token.
export interface Json {
  [k: string]: unknown;
}

export interface Reply<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

export class AdminClient {
  constructor(
    readonly base: string,
    public token?: string,
  ) {}

  async call<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get = <T = Json>(path: string) => this.call<T>('GET', path);
  post = <T = Json>(path: string, body?: unknown, headers?: Record<string, string>) =>
    this.call<T>('POST', path, body ?? {}, headers);
  patch = <T = Json>(path: string, body: unknown) => this.call<T>('PATCH', path, body);
  put = <T = Json>(path: string, body: unknown) => this.call<T>('PUT', path, body);
  delete = <T = Json>(path: string) => this.call<T>('DELETE', path);

  static async login(base: string, email: string, password: string): Promise<AdminClient> {
    const c = new AdminClient(base);
    const r = await c.post<{ token: string }>('/admin/api/auth/login', { email, password });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    c.token = r.body.token;
    return c;
  }
}

export interface Tenant {
  agent: { id: string; email: string; password: string; client: AdminClient };
  workspace: { id: string };
  key: string;
  keyId: string;
}

let seq = 0;

/** A platform admin creates an agent; the agent signs in, creates a workspace and a key; the admin credits it. */
export async function createTenant(
  admin: AdminClient,
  opts: { credit?: string; key?: Json; agentCredit?: string } = {},
): Promise<Tenant> {
  const n = ++seq;
  const email = `agent${n}-${Date.now()}@e2e.test`;
  const password = `agent-password-${n}`;
  const a = await admin.post<{ id: string }>('/admin/api/agents', { name: `Agent ${n}`, email, password });
  if (a.status !== 201) throw new Error(`create agent: ${a.status} ${JSON.stringify(a.body)}`);
  const agentClient = await AdminClient.login(admin.base, email, password);
  const ws = await agentClient.post<{ id: string }>('/admin/api/workspaces', { name: `Workspace ${n}` });
  if (ws.status !== 201) throw new Error(`create workspace: ${ws.status} ${JSON.stringify(ws.body)}`);
  if (opts.credit !== '0') {
    const r = await admin.post(`/admin/api/workspaces/${ws.body.id}/wallet/recharges`, {
      amount: opts.credit ?? '10.00',
      note: 'e2e',
    });
    if (r.status !== 201) throw new Error(`credit: ${r.status} ${JSON.stringify(r.body)}`);
  }
  if (opts.agentCredit)
    await admin.post(`/admin/api/agents/${a.body.id}/wallet/recharges`, { amount: opts.agentCredit });
  const k = await agentClient.post<{ id: string; key: string }>(`/admin/api/workspaces/${ws.body.id}/keys`, {
    name: 'e2e key',
    ...(opts.key ?? {}),
  });
  if (k.status !== 201) throw new Error(`create key: ${k.status} ${JSON.stringify(k.body)}`);
  return {
    agent: { id: a.body.id, email, password, client: agentClient },
    workspace: { id: ws.body.id },
    key: k.body.key,
    keyId: k.body.id,
  };
}
