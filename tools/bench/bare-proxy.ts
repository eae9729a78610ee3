// The benchmark's floor: the least a Node reverse proxy does, in its own process. A node:http server and
// one undici Pool (keep-alive) to the demo upstream; every request is forwarded as it came (method,
// path, headers but the hop-by-hop ones, body streamed) and the answer streamed back chunk by chunk. No
// auth, no limits, no billing, no parsing: what any Node proxy costs on this machine (the extra hop,
// the socket wake-ups of one more process), so the gateway's cost can be read against it.
// `node dist/tools/bench/bare-proxy.js --upstream http://127.0.0.1:PORT [--port 0] [--host 127.0.0.1]`
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

// RFC 9110 7.6.1: meant for one connection, never forwarded. `host` is the proxy's own (the pool sets
// the upstream's); `expect` is answered by node:http itself (100-continue) and undici refuses it.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const NOT_FORWARDED_UP = new Set([...HOP_BY_HOP, 'host', 'expect']);

type Headers = Record<string, string | string[]>;

/** Copies headers without the hop-by-hop ones, including those the Connection header names. */
function forwardable(headers: Record<string, string | string[] | undefined>, drop: Set<string>): Headers {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || drop.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

const MAX_LOGGED = 20;
let logged = 0;
function logError(what: string, e: unknown): void {
  if (logged > MAX_LOGGED) return;
  logged++;
  process.stderr.write(
    logged > MAX_LOGGED
      ? 'bare proxy: more errors, no longer logged\n'
      : `bare proxy: ${what}: ${e instanceof Error ? e.message : String(e)}\n`,
  );
}

function main(): void {
  const upstream = arg('upstream');
  if (!upstream || !/^https?:\/\/[^/]+$/.test(upstream.replace(/\/+$/, '')))
    throw new Error(`--upstream: expected an origin such as http://127.0.0.1:4010, got ${upstream ?? 'nothing'}`);
  const port = Number(arg('port') ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port: ${arg('port')}`);
  const host = arg('host') ?? '127.0.0.1';

  // the gateway's upstream agent uses the same keep-alive settings and connection cap
  const pool = new Pool(upstream.replace(/\/+$/, ''), {
    connections: 1024,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
  });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '/';
    if (!path.startsWith('/')) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bare proxy: origin-form request target expected\n');
      return;
    }
    // the client went away before the answer was complete: stop the upstream request too
    const ac = new AbortController();
    let clientGone = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      ac.abort();
    });
    const hasBody = (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
    pool
      .request({
        method: req.method ?? 'GET',
        path,
        headers: forwardable(req.headers, NOT_FORWARDED_UP),
        body: hasBody ? req : null,
        signal: ac.signal,
        // streams may be long; the bench's own timeouts apply
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      .then(
        (up) => {
          res.writeHead(up.statusCode, forwardable(up.headers, HOP_BY_HOP));
          // backpressure both ways; either side failing destroys the other (an aborted client aborts the
          // upstream request, an upstream failing mid-body cuts the client's connection)
          pipeline(up.body, res, (err) => {
            if (err && !clientGone) logError(`${req.method} ${path}: upstream body`, err);
          });
        },
        (err: unknown) => {
          if (clientGone) return;
          logError(`${req.method} ${path}: upstream`, err);
          if (res.headersSent) res.destroy();
          else res.writeHead(502, { 'content-type': 'text/plain' }).end('bare proxy: upstream request failed\n');
        },
      );
  };

  const server = createServer(handle);
  // as the gateway's server: streams may be long, client pools keep their connections
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.once('error', (e) => {
    process.stderr.write(`bare proxy failed: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => {
    const a = server.address();
    const actual = typeof a === 'object' && a ? a.port : port;
    process.stdout.write(`bare proxy listening on http://${host}:${actual} -> ${upstream}\n`);
  });

  const stop = () => {
    setTimeout(() => process.exit(0), 2000).unref(); // connections still busy: do not wait for them
    server.close();
    server.closeIdleConnections();
    void pool
      .close()
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

try {
  main();
} catch (e) {
  process.stderr.write(`bare proxy failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
