// What the seeds (../shared/seeds) document for the surfaces Switchyard serves today, checked as their
// clients would use them: base URLs, names, headers, the usage row a tagged call leaves. Behaviours the
// other suites prove in depth (limits, errors, billing) are not repeated here.
import OpenAI from 'openai';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { eventually, nanos } from './helpers/money';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

interface UsageRow {
  request_id: string;
  agent_id: string;
  workspace_id: string;
  api_key_id: string;
  endpoint: string;
  model_requested: string;
  model_used: string;
  provider_id: string;
  status: number;
  stream: boolean;
  client_label: string | null;
  client_ip: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  fallback_depth: number;
  cost: string;
}

describe('seed contracts', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let t: Tenant;

  beforeAll(async () => {
    stack = await startStack();
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    t = await createTenant(admin, { credit: '5.00' });
  });
  afterAll(() => stack.close());

  async function row(requestId: string): Promise<UsageRow> {
    let found: UsageRow | undefined;
    await eventually(async () => {
      const rows = (await stack.db.query(
        `SELECT request_id, agent_id, workspace_id, api_key_id, endpoint, model_requested, model_used, provider_id,
                status, stream, client_label, client_ip, latency_ms, ttft_ms, fallback_depth, cost::text AS cost
           FROM usage_log WHERE request_id = $1`,
        [requestId],
      )) as UsageRow[];
      found = rows[0];
      return !!found;
    }, 5_000);
    return found!;
  }

  it('seed 000: x-mikan-client tags the usage row, and the row says who, what, where and how long', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json', 'x-mikan-client': 'atomos' },
      body: JSON.stringify({ model: 'deepseek-v3.2', messages: [{ role: 'user', content: 'ping' }], max_tokens: 20 }),
    });
    expect(res.status).toBe(200);
    const id = res.headers.get('x-mikan-request-id')!;
    expect(id).toBe(res.headers.get('x-request-id'));
    const r = await row(id);
    expect(r).toMatchObject({
      agent_id: t.agent.id,
      workspace_id: t.workspace.id,
      api_key_id: t.keyId,
      endpoint: 'chat.completions',
      model_requested: 'deepseek-v3.2',
      model_used: 'deepseek-v3.2',
      provider_id: 'deepseek',
      status: 200,
      stream: false,
      client_label: 'atomos',
      fallback_depth: 0,
    });
    expect(r.client_ip).toMatch(/127\.0\.0\.1/);
    expect(r.latency_ms).toBeGreaterThanOrEqual(0);
    expect(BigInt(r.cost)).toBe(nanos(res.headers.get('x-credits-used')!)); // the row stores nanos
  });

  it('x-client tags a streamed call, whose row has its time to first token', async () => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json', 'x-client': 'cursor' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    const r = await row(res.headers.get('x-request-id')!);
    expect(r).toMatchObject({ stream: true, client_label: 'cursor', status: 200 });
    expect(r.ttft_ms).not.toBeNull();
    expect(r.ttft_ms!).toBeLessThanOrEqual(r.latency_ms);
  });

  it('seed 000: /v1/models carries mikan_capabilities, which its clients filter on', async () => {
    const res = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${t.key}` } });
    const list = (await res.json()) as { data: Array<{ id: string; mikan_capabilities: Record<string, unknown> }> };
    const byId = new Map(list.data.map((m) => [m.id, m]));
    expect(byId.get('deepseek-v3.2')!.mikan_capabilities).toMatchObject({ kind: 'chat' });
    expect(byId.get('qwen3-vl-embedding-8b')!.mikan_capabilities).toMatchObject({
      kind: 'embedding',
      dimensions: 768,
      multimodal: true,
    });
  });

  it('seed 003: the OpenAI SDK on /api/v1 with its model name deepseek-chat, and ISO 8601 rate-limit resets', async () => {
    const client = new OpenAI({ baseURL: `${stack.url}/api/v1`, apiKey: t.key });
    const { data, response } = await client.chat.completions
      .create({ model: 'deepseek-chat', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 100 })
      .withResponse();
    expect(data.choices[0].message.content).toContain('Hello!');
    expect(response.headers.get('x-model-used')).toBe('deepseek-v3.2');
    expect(response.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
    expect(response.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
    expect(Date.parse(response.headers.get('x-ratelimit-reset')!)).toBeGreaterThan(Date.now() - 1000); // ahead, not past
    expect(response.headers.get('x-ratelimit-reset')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
  });

  it('seed 002: provider/model ids from its OpenCode example, with x-api-key', async () => {
    for (const model of ['anthropic/claude-sonnet-4.5', 'google/gemini-3-flash', 'openai/gpt-4o-mini']) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-api-key': t.key, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 50 }),
      });
      expect({ model, status: res.status }).toEqual({ model, status: 200 });
      expect(Number(res.headers.get('x-credits-used'))).toBeGreaterThan(0);
    }
  });
});
