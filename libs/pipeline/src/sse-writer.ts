// Writes an SSE response with backpressure: a slow client slows the upstream read instead of growing
// memory. `closed` turns true when the client has gone.
import type { Response } from 'express';

export class SseWriter {
  closed = false;

  constructor(private readonly res: Response) {
    // the client may have left while the request waited for its hold or the upstream
    this.closed = clientGone(res);
    res.once('close', () => (this.closed = true));
  }

  start(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no', // tell nginx-style proxies not to buffer the stream
      ...headers,
    });
    this.res.socket?.setNoDelay(true);
  }

  async write(text: string): Promise<void> {
    if (this.closed) return;
    if (!this.res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.once('drain', done);
        this.res.once('close', done);
      });
    }
  }

  end(text?: string): void {
    if (!this.closed && !this.res.writableEnded) this.res.end(text);
  }
}

/** True when the client's connection is already gone (a 'close' listener added now would never fire). */
export function clientGone(res: Response): boolean {
  return !res.writableFinished && (res.destroyed || !!res.socket?.destroyed);
}

/**
 * An AbortSignal that fires when the client closes its connection before the response ended, including
 * when it already did (the request may have waited on its hold or limits meanwhile).
 */
export function clientSignal(res: Response): AbortSignal {
  const ac = new AbortController();
  if (clientGone(res)) ac.abort();
  else
    res.once('close', () => {
      if (!res.writableFinished) ac.abort();
    });
  return ac.signal;
}
