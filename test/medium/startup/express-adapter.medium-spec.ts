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
});
