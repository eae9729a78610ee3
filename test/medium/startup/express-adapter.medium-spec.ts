// The HTTP server builds each req and res with Express's prototypes already in place, so Express's
// per-request re-parenting (Object.setPrototypeOf, which kept every request's objects alive through
// scavenges) changes nothing; Express's request and response helpers still work.
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, Request, Response } from 'express';
import { SwitchyardExpressAdapter } from '../../../libs/core/src/http/express-adapter';

describe('SwitchyardExpressAdapter', () => {
  let server: Server;
  let base: string;
  let app: Express;
  const bornWith: boolean[] = [];

  beforeAll(async () => {
    const adapter = new SwitchyardExpressAdapter();
    app = adapter.getInstance<Express>();
    app.set('trust proxy', false);
    app.get('/probe', (req: Request, res: Response) => {
      res.status(201).json({ ip: req.ip, path: req.path, accepts: req.get('accept'), app: req.app === app });
    });
    adapter.initHttpServer({});
    server = adapter.getHttpServer() as Server;
    // runs before Express sees the request: what the server itself constructed
    server.prependListener('request', (req: IncomingMessage, res) => {
      bornWith.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('gives each request and response Express prototypes from birth, and Express helpers work', async () => {
    const r = await fetch(`${base}/probe`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await r.json()).toEqual({ ip: '127.0.0.1', path: '/probe', accepts: 'application/json', app: true });
    await fetch(`${base}/probe`);
    expect(bornWith).toEqual([true, true]);
  });

  it("resolves req.ip once a request, as Express would (trusted proxies' X-Forwarded-For included)", async () => {
    const adapter = new SwitchyardExpressAdapter();
    const proxied = adapter.getInstance<Express>();
    proxied.set('trust proxy', 'loopback');
    proxied.get('/ip', (req: Request, res: Response) => {
      const first = req.ip;
      // what Express would answer on a later read now; the request's address stays the one it came with
      req.headers['x-forwarded-for'] = '198.51.100.9';
      res.json({ first, again: req.ip });
    });
    adapter.initHttpServer({});
    const s = adapter.getHttpServer() as Server;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/ip`;
      const r = await fetch(url, { headers: { 'x-forwarded-for': '203.0.113.7' } });
      expect(await r.json()).toEqual({ first: '203.0.113.7', again: '203.0.113.7' });
      expect(await (await fetch(url)).json()).toEqual({ first: '127.0.0.1', again: '127.0.0.1' });
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
