// The one HTTP client for every upstream: undici with keep-alive pools per origin, per-call timeouts
// (until headers, and between body chunks), and an AbortSignal tied to the client's connection so a
// client that vanishes closes the upstream request at once.
import { Agent, Dispatcher, request } from 'undici';
import type { UpstreamCall } from '../types';

export type UpstreamBody = Dispatcher.ResponseData['body'];

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: UpstreamBody;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export class UpstreamTransport {
  private readonly agent: Agent;

  constructor(opts: { connectTimeoutMs: number }) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: 1024,
      connect: { timeout: opts.connectTimeoutMs },
    });
  }

  async send(call: UpstreamCall, opts: SendOptions): Promise<UpstreamResponse> {
    const res = await request(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      dispatcher: this.agent,
      signal: opts.signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** Reads a whole body as JSON (or as text when it is not JSON), bounded in size. */
export async function readBody(body: UpstreamBody, maxBytes = 64 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const b = c as Buffer;
    size += b.length;
    if (size > maxBytes) {
      body.destroy();
      throw new TransportError('upstream_error', 'the upstream answer is too large');
    }
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class TransportError extends Error {
  constructor(
    readonly code: 'upstream_error' | 'upstream_timeout',
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** A network-level failure as a client-safe error (no host, port or address in the message). */
export function classifyTransportError(e: unknown): TransportError {
  if (e instanceof TransportError) return e;
  const code = (e as { code?: string }).code ?? '';
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new TransportError('upstream_timeout', 'the upstream provider did not answer in time');
    case 'UND_ERR_BODY_TIMEOUT':
      return new TransportError(
        'upstream_timeout',
        'the upstream provider stopped sending in the middle of its answer',
      );
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new TransportError('upstream_timeout', 'the upstream provider could not be reached in time');
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new TransportError('upstream_error', 'the upstream provider could not be reached');
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return new TransportError('upstream_error', 'the upstream provider closed the connection');
    default:
      return new TransportError('upstream_error', 'the upstream provider request failed');
  }
}
