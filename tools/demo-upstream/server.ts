// The HTTP server: routing (after the `/_k/` prefix), auth, JSON parsing, request recording, the
// /__demo control routes, and a shutdown that also ends keep-alive sockets and hanging requests.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicDialect, anthropicRoutes } from './anthropic';
import { type Dialect, Exchange } from './exchange';
import { geminiDialect, geminiRoutes } from './gemini';
import { geminiEmbeddingRoutes } from './gemini-embeddings';
import { FailCounters, parseKnobList, splitKnobPrefix } from './knobs';
import { modelRoutes } from './models';
import { openaiChatRoutes, openaiDialect } from './openai';
import { openaiEmbeddingRoutes } from './openai-embeddings';
import { header, isObj, type Route } from './route';
import type { DemoKnobs, DemoUpstream, RecordedRequest, StartOptions } from './types';

const ROUTES: Route[] = [
  ...anthropicRoutes,
  ...openaiChatRoutes,
  ...openaiEmbeddingRoutes,
  ...geminiRoutes,
  ...geminiEmbeddingRoutes,
  ...modelRoutes,
];
const MAX_RECORDED = 1000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const KEEP_ALIVE_MS = 120_000;

/** JSON knobs (POST /__demo/defaults) go through the same parser as path knobs, so junk is dropped. */
export function knobsFromJson(value: unknown): DemoKnobs {
  if (!isObj(value)) return {};
  const list = Object.entries(value).map(([k, v]) => (v === true ? k : v === false ? `${k}=0` : `${k}=${String(v)}`));
  return parseKnobList(list.join(','));
}

function dialectFor(path: string, req: IncomingMessage): Dialect {
  if (path.startsWith('/v1beta')) return geminiDialect;
  if (path.startsWith('/v1/messages') || header(req, 'anthropic-version') !== '') return anthropicDialect;
  return openaiDialect;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  // an oversized body is drained, not cut off, so the 413 can still be answered on this connection
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buf);
  }
  if (size > MAX_BODY_BYTES) return 'too_large';
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

export async function startDemoUpstream(opts: StartOptions = {}): Promise<DemoUpstream> {
  const host = opts.host ?? '127.0.0.1';
  let defaults: DemoKnobs = { ...opts.defaults };
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  const failCounters = new FailCounters();
  const sockets = new Set<Socket>();
  const active = new Set<Exchange>();
  const tag = randomBytes(3).toString('hex');
  let nextRecordId = 1;
  let seq = 0;
  const newId = (prefix: string) => `${prefix}${tag}${(seq++).toString(36).padStart(6, '0')}`;

  function reset(): void {
    requests.length = 0;
    defaults = {};
    failCounters.clear();
  }

  function sendControl(res: ServerResponse, status: number, value: unknown): void {
    const payload = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'POST' && path === '/__demo/defaults') {
      const body = await readBody(req);
      let parsed: unknown;
      try {
        parsed = body === 'too_large' ? undefined : JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return sendControl(res, 400, { error: { message: 'body must be a JSON object of knobs' } });
      }
      defaults = knobsFromJson(parsed);
      return sendControl(res, 200, { defaults });
    }
    req.resume();
    if (req.method === 'GET' && path === '/__demo/defaults') return sendControl(res, 200, { defaults });
    if (req.method === 'POST' && path === '/__demo/reset') {
      reset();
      return sendControl(res, 200, { ok: true });
    }
    if (req.method === 'GET' && path === '/__demo/requests') return sendControl(res, 200, { data: requests });
    if (req.method === 'GET' && path === '/__demo/health') return sendControl(res, 200, { ok: true });
    sendControl(res, 404, { error: { message: `Unknown demo control route: ${req.method} ${path}` } });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    if (rawPath.startsWith('/__demo/')) return control(req, res, rawPath);

    const prefix = splitKnobPrefix(rawPath);
    const path = safeDecode(prefix.path);
    const method = req.method ?? 'GET';
    let params: string[] = [];
    const route = ROUTES.find((r) => {
      if (r.method !== method || (r.accepts && !r.accepts(req))) return false;
      const m = r.pattern.exec(path);
      if (m) params = m.slice(1);
      return m !== null;
    });
    const dialect = route?.dialect ?? dialectFor(path, req);

    const raw = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
    const text = raw === 'too_large' ? '' : raw.toString('utf8');
    let body: unknown = undefined;
    let parseFailed = false;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        parseFailed = true;
      }
    }

    const record: RecordedRequest = {
      id: nextRecordId++,
      provider: route ? dialect.provider : 'other',
      method,
      path: rawUrl,
      headers: { ...req.headers },
      body,
      knobs: {},
      aborted: false,
      finished: false,
    };
    requests.push(record);
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);
    const ex = new Exchange(req, res, record, dialect, query, body, {
      failCounters,
      defaults,
      prefixKnobs: prefix.knobs,
      prefixRaw: prefix.raw,
      newId,
      onAbort: (r) => events.emit('aborted', r),
    });
    active.add(ex);
    res.on('close', () => active.delete(ex));
    events.emit('request', record);

    if (!route) return ex.error(404, `Unknown request URL: ${method} ${path}`);
    if (raw === 'too_large') return ex.error(413, 'Request body too large');
    if (!dialect.authorized(req, query))
      return ex.error(401, 'Missing API key: the demo upstream accepts any non-empty key');
    if (method === 'POST' && (parseFailed || !isObj(body))) {
      return ex.error(400, 'We could not parse the JSON body of your request: it must be a JSON object');
    }
    await route.handle(ex, params);
  }

  const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // a bug here must not take the server down; answer 500 if we still can
      if (!res.headersSent) {
        const payload = JSON.stringify({ error: { message: `demo upstream failure: ${String(err)}` } });
        res.writeHead(500, { 'content-type': 'application/json' }).end(payload);
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 5_000;
  server.requestTimeout = 0; // hanging requests are a feature here
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    events,
    setDefaults(knobs: DemoKnobs) {
      defaults = { ...knobs };
    },
    reset,
    close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ex of active) ex.shutdown();
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}
