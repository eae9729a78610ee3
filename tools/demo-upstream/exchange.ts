// One request/response pair: knob gating (status, hang, latency, malformed), JSON replies, paced SSE
// streams with mid-stream drops, and abort bookkeeping. Provider files only build bodies and events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { FailCounters, mergeKnobs, readDirective } from './knobs';
import { header } from './route';
import type { DemoKnobs, DemoProvider, RecordedRequest } from './types';

/** How one provider speaks: auth, error envelope, and what a broken stream event looks like. */
export interface Dialect {
  provider: DemoProvider;
  authorized(req: IncomingMessage, query: URLSearchParams): boolean;
  errorBody(status: number, message: string, param?: string | null): unknown;
  /** an SSE frame that is not this provider's shape (knob `malformed`) */
  garbageEvent: string;
  /** the provider's in-stream error event (knob `error_after`) */
  streamError(message: string): string;
  /** the response header that carries a request id, as the provider names it */
  requestIdHeader: string;
}

/** One SSE frame, already serialised; `content` frames count for tps pacing and drop_after. */
export interface StreamFrame {
  frame: string;
  content: boolean;
}

export interface ExchangeDeps {
  failCounters: FailCounters;
  defaults: DemoKnobs;
  prefixKnobs: DemoKnobs;
  prefixRaw: string;
  newId(prefix: string): string;
  onAbort(record: RecordedRequest): void;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

export class Exchange {
  readonly abort = new AbortController();
  knobs: DemoKnobs;
  /** set when the server itself ends the response early (drop_after, shutdown): not a client abort */
  private endedByServer = false;
  private readonly requestId: string;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly record: RecordedRequest,
    readonly dialect: Dialect,
    readonly query: URLSearchParams,
    readonly body: unknown,
    private readonly deps: ExchangeDeps,
  ) {
    this.knobs = mergeKnobs(deps.defaults, deps.prefixKnobs);
    record.knobs = this.knobs;
    this.requestId = deps.newId('req_');
    res.on('close', () => {
      if (!res.writableFinished && !this.endedByServer) {
        record.aborted = true;
        deps.onAbort(record);
      }
      this.abort.abort();
    });
  }

  newId(prefix: string): string {
    return this.deps.newId(prefix);
  }

  /** The server is shutting down: end without reporting a client abort. */
  shutdown(): void {
    this.endedByServer = true;
    this.abort.abort();
    this.res.destroy();
  }

  /**
   * Applies the in-message directive and then the knobs that replace a normal answer. Returns true when
   * the route should answer normally; false when the knobs already answered (or the client left).
   */
  async gate(directiveText: string, stream: boolean): Promise<boolean> {
    const directive = readDirective(directiveText);
    this.knobs = mergeKnobs(this.knobs, directive.knobs);
    this.record.knobs = this.knobs;
    if (this.knobs.hang) {
      if (this.abort.signal.aborted) return false;
      await new Promise<void>((resolve) => this.abort.signal.addEventListener('abort', () => resolve()));
      return false;
    }
    const failKey = `${this.deps.prefixRaw}|${directive.raw}`;
    if (this.deps.failCounters.shouldFail(failKey, this.knobs)) {
      if (!(await this.sleep(this.knobs.latency_ms))) return false;
      this.error(this.knobs.status ?? 500, this.failureMessage(`simulated error ${this.knobs.status}`));
      return false;
    }
    if (!stream && !(await this.sleep(this.knobs.latency_ms))) return false;
    if (this.knobs.malformed) {
      if (stream) {
        if (!(await this.sleep(this.knobs.latency_ms))) return false;
        this.res.writeHead(200, { ...SSE_HEADERS, [this.dialect.requestIdHeader]: this.requestId });
        this.finish(this.dialect.garbageEvent);
      } else {
        this.send(200, 'demo upstream: this is not JSON {', 'application/json');
      }
      return false;
    }
    return !this.abort.signal.aborted;
  }

  /**
   * The text of a simulated failure. With `leaky_error` it is written as careless upstreams write theirs:
   * the key the caller presented, this server's own address, an internal URL, a private host and port,
   * another deployment's hostname and a cloud access key id (the gateway must pass none of it on).
   */
  failureMessage(what: string): string {
    if (!this.knobs.leaky_error) return `Demo upstream: ${what}`;
    const host = header(this.req, 'host') || '127.0.0.1';
    const key = presentedKey(this.req, this.query) || 'no-key';
    return (
      `Demo upstream: ${what} at ${host} for key ${key}; ` +
      `auth said no at http://${host}/internal/auth?key=${key} ` +
      `and the pool vllm-gpu-3:8000 behind api.mycompany.co.uk is down (AKIAIOSFODNN7EXAMPLE)`
    );
  }

  json(status: number, value: unknown): void {
    this.send(status, JSON.stringify(value), 'application/json');
  }

  error(status: number, message: string, param?: string | null): void {
    this.json(status, this.dialect.errorBody(status, message, param));
  }

  /**
   * Streams frames: latency before headers, ttft before the first frame, tps between content frames.
   * (Gemini's non-SSE stream is a JSON array sent the same way, hence `contentType`.)
   */
  async stream(frames: StreamFrame[], contentType = SSE_HEADERS['content-type']): Promise<void> {
    const { latency_ms, ttft_ms, tps, drop_after, error_after, end_after } = this.knobs;
    if (!(await this.sleep(latency_ms))) return;
    const headers = { ...SSE_HEADERS, 'content-type': contentType, [this.dialect.requestIdHeader]: this.requestId };
    this.res.writeHead(200, headers);
    const gap = tps && tps > 0 ? 1000 / tps : 0;
    const at = (n: number | undefined) => (n === undefined ? -1 : Math.floor(n));
    const dropAt = at(drop_after);
    const errorAt = at(error_after);
    const endAt = at(end_after);
    if (!ttft_ms && gap === 0 && dropAt < 0 && errorAt < 0 && endAt < 0) {
      // the benchmark path: headers and body in one write, no timers
      this.finish(frames.map((f) => f.frame).join(''));
      return;
    }
    this.res.flushHeaders();
    if (!(await this.sleep(ttft_ms))) return;
    let sent = 0;
    let flushed: Promise<void> = Promise.resolve();
    for (const f of frames) {
      if (f.content && sent === dropAt) return this.drop(flushed);
      if (f.content && sent === errorAt) {
        return this.finish(this.dialect.streamError(this.failureMessage(`simulated stream error after ${sent}`)));
      }
      if (f.content && sent === endAt) return this.finish('');
      if (f.content && sent > 0 && gap > 0 && !(await this.sleep(gap))) return;
      if (this.abort.signal.aborted) return;
      flushed = new Promise((resolve) => this.res.write(f.frame, () => resolve()));
      if (f.content) sent++;
    }
    if (sent === dropAt) return this.drop(flushed);
    this.finish('');
  }

  /** Cuts the connection once what was written reached the socket, so the client sees a mid-stream drop. */
  private async drop(flushed: Promise<void>): Promise<void> {
    this.endedByServer = true;
    await flushed;
    this.res.socket?.destroy();
    this.res.destroy();
  }

  private finish(last: string): void {
    if (this.abort.signal.aborted) return;
    this.res.end(last, () => {
      this.record.finished = true;
    });
  }

  private send(status: number, payload: string, contentType: string): void {
    if (this.abort.signal.aborted || this.res.headersSent) return;
    this.res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(payload),
      [this.dialect.requestIdHeader]: this.requestId,
    });
    this.finish(payload);
  }

  /** Waits; false when the client left (or the server closed) meanwhile. */
  private async sleep(ms: number | undefined): Promise<boolean> {
    if (this.abort.signal.aborted) return false;
    if (!ms || ms <= 0) return true;
    try {
      await delay(ms, undefined, { signal: this.abort.signal });
      return true;
    } catch {
      return false;
    }
  }
}

/** The API key a request carries, whichever way its provider takes it. */
function presentedKey(req: IncomingMessage, query: URLSearchParams): string {
  const bearer = /^Bearer\s+(\S+)/i.exec(header(req, 'authorization'));
  return bearer?.[1] ?? (header(req, 'x-api-key') || header(req, 'x-goog-api-key') || query.get('key') || '');
}
