// LIMITS_ON_REDIS_FAILURE: 'open' serves without limits (counted, logged once a minute), 'closed'
// answers 503; both decide fast, whether Redis refuses connections or accepts them and hangs.
import { createServer, Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { GatewayError } from '@switchyard/core';
import { attempt, counterValue, keyContext, limitsHarness } from './limits-harness';

const key = keyContext({ keyId: 'k-down', workspaceId: 'w-down' }, { tpm: 10, daily_spend: 5n }, { rpm: 5 });

/** Collects the log lines a logger writes. */
function logSink(): { stream: Writable; lines: Array<{ msg: string; failures?: number }> } {
  const lines: Array<{ msg: string; failures?: number }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { stream, lines };
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; r: T }> {
  const t = performance.now();
  const r = await p;
  return { ms: performance.now() - t, r };
}

describe('limits when Redis is unreachable', () => {
  const down = { REDIS_URL: 'redis://127.0.0.1:1' };

  it("'open' serves without headers, counts each failure, logs once a minute, and answers fast", async () => {
    const log = logSink();
    const h = await limitsHarness({
      env: { ...down, LIMITS_ON_REDIS_FAILURE: 'open' },
      logTo: log.stream,
      waitReady: false,
    });
    try {
      for (let i = 0; i < 5; i++) {
        const { ms, r } = await timed(h.service.check(key, '198.51.100.1'));
        expect(r).toEqual({ headers: {}, reservation: null });
        expect(ms).toBeLessThan(500);
      }
      const { ms } = await timed(h.service.checkIpOnly('198.51.100.1'));
      expect(ms).toBeLessThan(500);
      await expect(h.service.record(key, { tokens: 100, spend: 10n })).resolves.toBeUndefined();
      expect(await counterValue(h.metrics, 'open')).toBe(6);
      expect(await counterValue(h.metrics, 'closed')).toBe(0);
      const warnings = log.lines.filter((l) => l.msg.startsWith('limits: Redis unavailable'));
      expect(warnings).toHaveLength(1);
    } finally {
      await h.close();
    }
  });

  it("'closed' answers 503 service_unavailable with Retry-After, fast, and counts it", async () => {
    const h = await limitsHarness({ env: { ...down, LIMITS_ON_REDIS_FAILURE: 'closed' }, waitReady: false });
    try {
      const { ms, r } = await timed(attempt(h.service.check(key, '198.51.100.2')));
      expect(ms).toBeLessThan(500);
      const err = r.error as GatewayError;
      expect(err).toBeInstanceOf(GatewayError);
      expect(err.status).toBe(503);
      expect(err.code).toBe('service_unavailable');
      expect(err.headers['Retry-After']).toBe('5');
      expect(((await attempt(h.service.checkIpOnly('198.51.100.2'))).error as GatewayError).code).toBe(
        'service_unavailable',
      );
      expect(await counterValue(h.metrics, 'closed')).toBe(2);
      // record() never throws, whatever the policy
      await expect(h.service.record(key, { tokens: 100, spend: 10n })).resolves.toBeUndefined();
    } finally {
      await h.close();
    }
  });

  describe('a Redis that accepts the connection and then hangs', () => {
    let server: Server;
    let url: string;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((s) => {
        sockets.add(s);
        // answers the connection handshake (CLIENT SETINFO, INFO for the ready check), nothing after
        s.on('data', (d) => {
          const text = d.toString().toLowerCase();
          if (text.includes('client')) s.write('+OK\r\n'.repeat((text.match(/client/g) ?? []).length));
          // INFO, not CLIENT SETINFO: a stray reply would answer the next command
          if (/(?<!set)info/.test(text)) s.write('$9\r\nloading:0\r\n');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `redis://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    });

    it("fails open after the limits' short command timeout, not the shared client's second", async () => {
      const h = await limitsHarness({ env: { REDIS_URL: url, LIMITS_ON_REDIS_FAILURE: 'open' } });
      try {
        expect(h.conn.client.status).toBe('ready');
        const { ms, r } = await timed(h.service.check(key, '198.51.100.3'));
        expect(r).toEqual({ headers: {}, reservation: null });
        expect(ms).toBeGreaterThanOrEqual(200);
        expect(ms).toBeLessThan(500);
        expect(await counterValue(h.metrics, 'open')).toBe(1);
      } finally {
        await h.conn.onApplicationShutdown();
        h.redis.onApplicationShutdown();
      }
    });
  });
});
