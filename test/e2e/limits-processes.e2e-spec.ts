// What the limits cost and where they hold: Redis commands and round trips per /v1 request, seen by
// Redis itself (MONITOR, filtered on this stack's key prefix) and by the gateway's connection, and one
// rpm limit shared with a second gateway that is a real `node dist/apps/main.js` process.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { ADJUST_COALESCE_MS, LIMITS_SCRIPTS, LimitsRedis, LimitsService } from '@switchyard/limits';
import { AdminClient, createTenant, Tenant } from './helpers/admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, TestStack } from './helpers/test-stack';

const ROOT = join(__dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function chat(base: string, key: string, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 8,
      ...extra,
    }),
  });
  await res.arrayBuffer();
  return res;
}

/** The script each EVALSHA runs, by its SHA-1 (what ioredis sends). */
const SCRIPT_BY_SHA = new Map(
  Object.entries(LIMITS_SCRIPTS).map(([name, s]) => [createHash('sha1').update(s.lua).digest('hex'), name]),
);

describe('Redis commands and round trips per /v1 request', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let base: Redis;
  let monitor: Redis;
  let seen: string[][] = [];
  /** sends on the limits connection, and how many of them found no command of theirs in flight */
  let sends = 0;
  let waves = 0;
  /** socket writes of the limits connection: what reaches the kernel (and wakes Redis) */
  let writes = 0;

  beforeAll(async () => {
    // no worker: its BullMQ polling would add commands under this prefix; a per-IP net under
    // LEASE_MIN_LIMIT, so that it is checked in Redis on every request like a key's small rpm
    stack = await startStack({ apps: ['gateway', 'admin'], env: { IP_RATE_LIMIT: '900' } });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    // monitor() opens a connection of its own: both are closed after the tests
    base = new Redis(stack.app.config.redisUrl);
    monitor = await base.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // commands a script runs inside Redis are reported with source "lua"; count what clients send
      if (source !== 'lua' && args.some((a) => a.includes(stack.redisPrefix))) seen.push(args);
    });
    const client = stack.app.app.get(LimitsRedis).client as unknown as {
      sendCommand: (...a: unknown[]) => Promise<unknown>;
    };
    const stream = (client as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
    const write = stream.write.bind(stream);
    stream.write = (...a: unknown[]) => {
      writes++;
      return write(...a);
    };
    const send = client.sendCommand.bind(client);
    let inFlight = 0;
    client.sendCommand = (...a: unknown[]) => {
      sends++;
      if (inFlight++ === 0) waves++;
      const p = send(...a);
      void Promise.resolve(p)
        .catch(() => undefined)
        .finally(() => inFlight--);
      return p;
    };
  });
  afterAll(async () => {
    monitor?.disconnect();
    base?.disconnect();
    await stack.close();
  });

  /** Runs `fn`, then waits for what follows the response (corrections are sent within 50 ms). */
  async function measure(fn: () => Promise<unknown>) {
    await sleep(150);
    seen = [];
    sends = 0;
    waves = 0;
    writes = 0;
    await fn();
    await sleep(200);
    // EVALSHA names its script by SHA-1; EVAL (a script's first run on a connection) sends its source
    const sha = (cmd: string, arg: string) => (cmd === 'eval' ? createHash('sha1').update(arg).digest('hex') : arg);
    const scripts = seen.map((args) => {
      const cmd = args[0].toLowerCase();
      return cmd === 'evalsha' || cmd === 'eval' ? (SCRIPT_BY_SHA.get(sha(cmd, args[1])) ?? `${cmd} ?`) : cmd;
    });
    return { scripts, sends, waves, writes };
  }

  it('a chat completion with a warm key: the check and the per-IP net, two commands in one round trip, nothing else', async () => {
    // under LEASE_MIN_LIMIT: exact, request by request
    const t = await createTenant(admin, { key: { rpm: 999 } });
    expect((await chat(stack.url, t.key)).status).toBe(200); // key cached, scripts loaded
    for (let i = 0; i < 3; i++) {
      const m = await measure(async () => expect((await chat(stack.url, t.key)).status).toBe(200));
      expect(m.scripts.sort()).toEqual(['syLimitsCheck', 'syLimitsIp']);
      expect(m).toMatchObject({ sends: 2, waves: 1, writes: 1 }); // one pipeline: one write to Redis
    }
    // a stream and another route: the same
    const s = await measure(async () => expect((await chat(stack.url, t.key, { stream: true })).status).toBe(200));
    expect(s.scripts.sort()).toEqual(['syLimitsCheck', 'syLimitsIp']);
    const models = await measure(async () => {
      const r = await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${t.key}` } });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    });
    expect(models.scripts.sort()).toEqual(['syLimitsCheck', 'syLimitsIp']);
    expect(models).toMatchObject({ sends: 2, waves: 1 });
  });

  it('a busy key with a large rpm is served from its lease: one check in many reaches Redis', async () => {
    const t = await createTenant(admin, { key: { rpm: 100_000 } });
    expect((await chat(stack.url, t.key)).status).toBe(200);
    const m = await measure(async () => {
      for (let i = 0; i < 40; i++) expect((await chat(stack.url, t.key)).status).toBe(200);
    });
    // the per-IP net (900) on each request; the key's rpm when its lease (1, 2, 4, ... places) runs
    // out, and once a second as its bucket ends
    expect(m.scripts.filter((s) => s === 'syLimitsIp')).toHaveLength(40);
    const checks = m.scripts.filter((s) => s === 'syLimitsCheck').length;
    expect(checks).toBeGreaterThanOrEqual(1);
    expect(checks).toBeLessThanOrEqual(12);
    expect(m.scripts.filter((s) => !['syLimitsCheck', 'syLimitsIp', 'syLimitsReturn'].includes(s))).toEqual([]);
    // its unused places go back now, not during the next test's count
    await stack.app.app.get(LimitsService).returnUnused(true);
  });

  it('with a tpm cap, the corrections after requests are coalesced: far fewer than one command per request', async () => {
    const t: Tenant = await createTenant(admin, { key: { rpm: 1000, tpm: 1_000_000, daily_spend: '100.00' } });
    // 3 tokens out of the 8 reserved: each request leaves a correction to make
    const short = { messages: [{ role: 'user', content: 'hi [[demo: tokens=3]]' }] };
    // loads the correction script too (its first run is an EVAL after NOSCRIPT)
    expect((await chat(stack.url, t.key, short)).status).toBe(200);
    const done: number[] = [];
    const m = await measure(async () => {
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => chat(stack.url, t.key, short).then((r) => (done.push(performance.now()), r))),
      );
      expect(replies.every((r) => r.status === 200)).toBe(true);
    });
    expect(m.scripts.filter((s) => s === 'syLimitsCheck')).toHaveLength(20);
    expect(m.scripts.filter((s) => s === 'syLimitsIp')).toHaveLength(20);
    const adjust = m.scripts.filter((s) => s === 'syLimitsAdjust').length;
    expect(adjust).toBeGreaterThanOrEqual(1);
    // at most one per coalescing window in which requests finished (20 without coalescing)
    const spanMs = Math.max(...done) - Math.min(...done);
    expect(adjust).toBeLessThanOrEqual(Math.floor(spanMs / ADJUST_COALESCE_MS) + 2);
    expect(m.scripts.filter((s) => !['syLimitsCheck', 'syLimitsIp', 'syLimitsAdjust'].includes(s))).toEqual([]);
  });
});

describe('one limit across gateway processes: a second `node dist/apps/main.js`', () => {
  let stack: TestStack;
  let admin: AdminClient;
  let child: ChildProcess;
  let childUrl: string;
  const childLog: string[] = [];

  beforeAll(async () => {
    // the child runs the built app: build the current sources first (swc, about a second)
    await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 60_000 });
    stack = await startStack({ apps: ['gateway', 'admin'] });
    admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    // the same deployment: the stack's whole environment (database, Redis prefix, catalog), its own port
    child = spawn(process.execPath, [join(ROOT, 'dist/apps/main.js')], {
      cwd: ROOT,
      env: { ...stack.app.config.catalogEnv, PORT: '0', APPS: 'gateway', WEB_CONCURRENCY: '1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    childUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not start:\n${childLog.join('')}`)), 30_000);
      child.stderr!.on('data', (d: Buffer) => childLog.push(d.toString()));
      child.stdout!.on('data', (d: Buffer) => {
        childLog.push(d.toString());
        for (const line of d.toString().split('\n')) {
          if (!line.includes('Switchyard is listening')) continue;
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}):\n${childLog.join('')}`)));
    });
  }, 90_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await stack?.close();
  });

  it('requests alternating between this process and the child share one rpm', async () => {
    expect(child.pid).toBeGreaterThan(0);
    expect(child.pid).not.toBe(process.pid);
    const t = await createTenant(admin, { key: { rpm: 10 } });
    const served = { here: 0, child: 0 };
    const remaining: string[] = [];
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      const onChild = i % 2 === 1;
      const r = await chat(onChild ? childUrl : stack.url, t.key);
      if (r.status === 200) {
        served[onChild ? 'child' : 'here']++;
        remaining.push(r.headers.get('x-ratelimit-remaining')!);
      } else {
        expect(r.status).toBe(429);
        expect(r.headers.get('x-ratelimit-limit')).toBe('10');
        refused++;
      }
    }
    // each process alone would let 10 through
    expect(served).toEqual({ here: 5, child: 5 });
    expect(refused).toBe(10);
    expect(remaining).toEqual(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
  });

  it('with leases (rpm 1,000): never more than the limit across both processes, at most a lease each short', async () => {
    const t = await createTenant(admin, { key: { rpm: 1000 } });
    const statuses: number[] = [];
    let next = 0;
    // 20 clients at once, alternating between the processes, 1,060 requests in all
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < 1060) {
          const i = next++;
          statuses.push((await chat(i % 2 ? childUrl : stack.url, t.key)).status);
        }
      }),
    );
    const served = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(served).toBeLessThanOrEqual(1000);
    // places one process held unused were refused to the other: at most a lease (15) each
    expect(served).toBeGreaterThanOrEqual(1000 - 2 * 15);
  }, 60_000);
});
