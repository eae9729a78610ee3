// Switchyard as an operator runs it: the built `node dist/apps/main.js` in its own process. On an
// empty database it creates the database, runs the migrations and prints a generated first-admin
// password once; SIGTERM lets a stream in flight finish and exits 0; `DEMO=1` takes the demo path.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startDemoUpstream, DemoUpstream } from '../../tools/demo-upstream';
import { dropDatabase, PG_BASE } from '../setup/test-db';
import { AdminClient, createTenant } from './helpers/admin-client';

const ROOT = join(__dirname, '../..');

interface Running {
  child: ChildProcess;
  out: () => string;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns the build's main.js and waits until it listens (the JSON log line) or some text appears. */
async function start(env: NodeJS.ProcessEnv, ready: RegExp = /"msg":"Switchyard is listening"/): Promise<Running> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const started = Date.now();
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`main.js exited ${child.exitCode}: ${out}`);
    if (Date.now() - started > 30_000) throw new Error(`main.js did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const listening = /"url":"(http:\/\/[^"]+)","apps".*"msg":"Switchyard is listening"/.exec(out);
  return { child, out: () => out, url: listening?.[1] ?? '', exited };
}

describe('node dist/apps/main.js', () => {
  const name = `sy_test_proc_${randomBytes(4).toString('hex')}`;
  const prefix = `sy:e2e:${randomBytes(4).toString('hex')}:`;
  const redisUrl = process.env.SY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let upstream: DemoUpstream;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // the test is of the build: make it from this tree
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
    upstream = await startDemoUpstream({ port: 0 });
    const u = upstream.url;
    env = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `${PG_BASE}/${name}`, // does not exist yet
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'info',
      OPENAI_BASE_URL: `${u}/v1`,
      ANTHROPIC_BASE_URL: u,
      GEMINI_BASE_URL: u,
      DEEPSEEK_BASE_URL: `${u}/v1`,
      QWEN_EMBED_BASE_URL: `${u}/v1`,
      OPENAI_API_KEY: 'sk-upstream',
      USAGE_FLUSH_MS: '50',
      LEASE_FLUSH_MS: '50',
      LEASE_IDLE_MS: '300',
      SHUTDOWN_GRACE_MS: '10000',
    };
  }, 120_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await upstream?.close();
    const redis = new Redis(redisUrl);
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`{${prefix}bull}*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await dropDatabase(name);
  });

  let adminPassword: string;

  it('creates the database, migrates it, prints a generated admin password once; SIGTERM finishes a stream and exits 0', async () => {
    const p = await start(env);
    children.push(p.child);
    expect(p.out()).toContain(`created database \\"${name}\\"`);
    expect(p.out()).toMatch(/ran \d+ migration\(s\): CreateTenancyAndKeys/);
    const printed =
      /First platform admin created: admin@switchyard\.local\n\s+Password \(shown once[^)]*\): (\S+)/.exec(p.out());
    expect(printed).not.toBeNull();
    adminPassword = printed![1];
    // the password is the printed text's alone: not in a JSON log line
    expect(
      p
        .out()
        .split('\n')
        .filter((l) => l.startsWith('{') && l.includes(adminPassword)),
    ).toEqual([]);

    const admin = await AdminClient.login(p.url, 'admin@switchyard.local', adminPassword);
    const t = await createTenant(admin);
    const res = await fetch(`${p.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.key}`,
        'content-type': 'application/json',
        'x-request-id': 'sigterm-stream-01',
      },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'slow [[demo: tps=20, tokens=30]]' }],
      }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value, { stream: true });
    p.child.kill('SIGTERM');
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const words = text
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .flatMap((f) => (JSON.parse(f.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices)
      .map((c) => c.delta.content ?? '')
      .join('')
      .trim()
      .split(/\s+/);
    expect(words).toHaveLength(30);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out()).toMatch(/"msg":"shutting down: finishing in-flight requests"/);
    expect(p.out()).toMatch(/"msg":"stopped"/);
  }, 60_000);

  it('DEMO=1 takes the demo path: its own demo upstream, seeded records, a printed key that answers; the admin password is not printed again', async () => {
    const p = await start({ ...env, DEMO: '1', DEMO_UPSTREAM_PORT: '0' }, /Health: http:\/\/localhost:\d+\/readyz/);
    children.push(p.child);
    expect(p.out()).not.toContain('First platform admin created');
    expect(p.out()).not.toContain(adminPassword);
    const m = /Switchyard demo is running on (http:\/\/localhost:\d+) \(demo upstream: (http:\/\/[^)]+)\)/.exec(
      p.out(),
    );
    expect(m).not.toBeNull();
    expect(m![2]).not.toBe(upstream.url); // the demo started its own upstream
    const key = /API key [^\n]*\n\s+(sk-sy-\w+)/.exec(p.out())![1];
    const r = await fetch(`${m![1].replace('localhost', '127.0.0.1')}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] }),
    });
    expect(r.status).toBe(200);
    expect(
      ((await r.json()) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content,
    ).toContain('Demo reply to "Hello!"');
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
