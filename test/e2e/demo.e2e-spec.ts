// `npm run demo`'s seeding, in this process: a demo agent (generated password, printed once), a
// workspace with 25.00 of credit (once), a fresh key per start that answers through the demo upstream;
// and never against a production configuration.
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import { AppConfig, StartupError } from '@switchyard/core';
import { DEMO_AGENT_EMAIL, RunningDemo, runDemo, seedDemo } from '../../tools/demo/run-demo';
import { freshDatabase } from '../setup/test-db';
import { AdminClient } from './helpers/admin-client';

describe('the demo', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let demo: RunningDemo;
  let printed = '';
  const prefix = `sy:e2e:${randomBytes(4).toString('hex')}:`;
  const redisUrl = process.env.SY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

  beforeAll(async () => {
    database = await freshDatabase();
    demo = await runDemo({
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        MIGRATIONS_RUN: 'false',
        DEMO_UPSTREAM_PORT: '0',
        LOG_LEVEL: 'warn',
        ADMIN_PASSWORD: 'demo-admin-password-1',
      },
      port: 0,
      out: (text) => (printed += text),
      logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
  });
  afterAll(async () => {
    await demo.shutdown('test end');
    const redis = new Redis(redisUrl);
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`{${prefix}bull}*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await database.drop();
  });

  it('prints a key and a curl line that work against the demo upstream', async () => {
    const key = /API key [^\n]*\n\s+(sk-sy-\w+)/.exec(printed)?.[1];
    expect(key).toBe(demo.seed.key);
    expect(printed).toContain(`-H "Authorization: Bearer ${key}"`);
    const client = new OpenAI({ baseURL: `${demo.url}/v1`, apiKey: key! });
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello demo' }],
    });
    expect(r.choices[0].message.content).toContain('Demo reply to "Hello demo"');
    // the request went to the bundled demo upstream, not to a real provider
    expect(demo.upstream.requests.length).toBeGreaterThan(0);
  });

  it('seeds a demo agent with a generated password printed once, and a workspace credited 25.00', async () => {
    const password = demo.seed.agentPassword!;
    expect(password).toMatch(/^[0-9A-Za-z]{20}$/);
    expect(printed).toContain(`${DEMO_AGENT_EMAIL} / ${password}`);
    expect(printed).not.toContain('demo-agent-password'); // the old fixed, public one
    const agent = await AdminClient.login(demo.url, DEMO_AGENT_EMAIL, password);
    const ws = await agent.get<{ data: Array<{ id: string; name: string }> }>('/admin/api/workspaces');
    expect(ws.body.data.map((w) => w.name)).toEqual(['Demo workspace']);
    const wallet = await agent.get<{ balance: string; held: string }>(
      `/admin/api/workspaces/${ws.body.data[0].id}/wallet`,
    );
    expect(Number(wallet.body.balance)).toBeGreaterThan(24.9); // 25.00 less the chat above
    expect(Number(wallet.body.balance)).toBeLessThanOrEqual(25);
  });

  it('seeding again keeps the agent, its password and the credit, and issues another key', async () => {
    const again = await seedDemo(demo.app);
    expect(again.agentPassword).toBeNull();
    expect(again.workspaceId).toBe(demo.seed.workspaceId);
    expect(again.key).not.toBe(demo.seed.key);
    const agent = await AdminClient.login(demo.url, DEMO_AGENT_EMAIL, demo.seed.agentPassword!);
    const tx = await agent.get<{ data: Array<{ kind: string; amount: string }> }>(
      `/admin/api/workspaces/${again.workspaceId}/wallet/transactions?limit=100`,
    );
    expect(tx.body.data.filter((x) => x.kind === 'recharge')).toEqual([expect.objectContaining({ amount: '25.00' })]);
  });

  it('refuses to seed a production deployment', async () => {
    const production = {
      get: (token: unknown) => (token === AppConfig ? { nodeEnv: 'production' } : undefined),
    } as unknown as RunningDemo['app'];
    await expect(seedDemo(production)).rejects.toThrow(StartupError);
    await expect(seedDemo(production)).rejects.toThrow(/NODE_ENV=production/);
  });
});
