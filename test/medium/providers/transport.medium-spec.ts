// The shared upstream transport against a real local HTTP server: the buffered path the non-stream
// requests take (undici's dispatcher, no body stream) and the streamed one must behave alike.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ERROR_BODY_BYTES,
  TransportError,
  UpstreamTransport,
  classifyTransportError,
  readBody,
} from '@switchyard/providers';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('UpstreamTransport', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let closed = 0;
  const transport = new UpstreamTransport({ connectTimeoutMs: 2000 });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => handler(req, res, body));
      res.on('close', () => {
        if (!res.writableFinished) closed++;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await transport.close();
    await new Promise((r) => server.close(r));
  });

  const call = (path = '/v1/x?y=1', body: unknown = { a: 1 }) => ({
    url: `${base}${path}`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body,
  });

  it('sends method, path with query, headers and the JSON body; parses a JSON answer', async () => {
    handler = (req, res, body) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ method: req.method, url: req.url, auth: req.headers.authorization, body: JSON.parse(body) }),
      );
    };
    const r = await transport.sendBuffered(call(), { timeoutMs: 5000 });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({ method: 'POST', url: '/v1/x?y=1', auth: 'Bearer k', body: { a: 1 } });
    expect(typeof r.headersAt).toBe('bigint');
  });

  it('gives the same answer as send() + readBody, chunked and multi-byte included', async () => {
    handler = (_req, res) => {
      res.write('{"text":"h\u00e9');
      setTimeout(() => res.end('llo \u{1F600}"}'), 5);
    };
    const buffered = await transport.sendBuffered(call(), { timeoutMs: 5000 });
    const streamed = await transport.send(call(), { timeoutMs: 5000 });
    expect(buffered.body).toEqual({ text: 'h\u00e9llo \u{1F600}' });
    expect(await readBody(streamed.body)).toEqual(buffered.body);
  });

  it('returns text that is not JSON as text, and an error status with its body', async () => {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end('overloaded');
    };
    const r = await transport.sendBuffered(call(), { timeoutMs: 5000 });
    expect(r).toMatchObject({ status: 503, body: 'overloaded' });
  });

  it('an error body over the bound comes back empty, with its status; a success over the bound fails', async () => {
    handler = (_req, res) => {
      res.statusCode = 500;
      res.end('x'.repeat(ERROR_BODY_BYTES + 10));
    };
    expect(await transport.sendBuffered(call(), { timeoutMs: 5000 })).toMatchObject({ status: 500, body: '' });
    handler = (_req, res) => res.end('y'.repeat(5000));
    const e = await transport.sendBuffered(call(), { timeoutMs: 5000 }, 4096).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransportError);
    expect((e as TransportError).message).toBe('the upstream answer is too large');
  });

  it('an abort closes the upstream connection at once', async () => {
    handler = () => undefined; // never answers
    const before = closed;
    const ac = new AbortController();
    const p = transport.sendBuffered(call(), { timeoutMs: 30_000, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(p).rejects.toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(before + 1);
    // an already aborted signal sends nothing
    await expect(transport.sendBuffered(call(), { timeoutMs: 5000, signal: ac.signal })).rejects.toBeDefined();
  });

  it('times out like send(): no headers in time is upstream_timeout', async () => {
    handler = () => undefined;
    const e = await transport.sendBuffered(call(), { timeoutMs: 100 }).catch((x: unknown) => x);
    expect(classifyTransportError(e)).toMatchObject({ code: 'upstream_timeout' });
  });

  it('a refused connection is upstream_error without the address', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const e = await transport
      .sendBuffered({ ...call(), url: `http://127.0.0.1:${port}/v1/x` }, { timeoutMs: 2000 })
      .catch((x: unknown) => x);
    const t = classifyTransportError(e);
    expect(t.code).toBe('upstream_error');
    expect(t.message).not.toContain(String(port));
  });
});
