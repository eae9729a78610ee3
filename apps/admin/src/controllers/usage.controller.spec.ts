// The CSV export over a real socket: a client that stops reading and leaves mid-export must end the
// handler (and the generator of row pages), not leave it waiting for a 'drain' that never comes.
import { AddressInfo, connect } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { AdminPrincipal } from '@switchyard/tenancy';
import type { UsageQueryService } from '@switchyard/usage';
import { UsageController } from './usage.controller';

describe('GET /admin/api/usage?format=csv', () => {
  let server: Server;
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('stops when the client leaves mid-export', async () => {
    const pages = { lines: 0, closed: false };
    const usage = {
      async *adminCsv() {
        try {
          for (;;) {
            pages.lines++;
            yield `${'x'.repeat(64 * 1024)}\n`; // endless: only the client leaving ends it
          }
        } finally {
          pages.closed = true;
        }
      },
    } as unknown as UsageQueryService;
    const controller = new UsageController(usage);
    let handler: Promise<void> | undefined;
    const app = express();
    app.get('/', (_req, res) => {
      handler = controller.list({} as AdminPrincipal, res, { format: 'csv' });
    });
    server = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });

    // a client that asks and never reads: the server fills the socket, then waits
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.pause();
    client.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    for (let last = -1; pages.lines !== last;) {
      last = pages.lines;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(handler).toBeDefined();
    expect(pages.closed).toBe(false);

    client.destroy(); // the client leaves
    const ended = await Promise.race([
      handler!.then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('still waiting'), 2_000)),
    ]);
    expect(ended).toBe('ended');
    expect(pages.closed).toBe(true);
  });
});
