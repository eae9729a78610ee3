// Nest's Express adapter, with the HTTP server building each request and response from classes that
// already inherit Express's request and response objects (and a request that resolves req.ip once).
//
// Why: Express's app.handle re-parents every req and res (Object.setPrototypeOf onto app.request and
// app.response). On V8 that made each request's object graph outlive the young generation: in a bare
// Express app at 500 req/s, 1.7 MB of every scavenge was promoted to the old space (4.8 ms pauses);
// with the objects born with those prototypes, 0.1 MB (1.4 ms). In the gateway it was 2 MB a scavenge
// and 9 ms pauses, most of the p99 (docs/performance.md). With the prototype already in place Express's
// setPrototypeOf changes nothing (V8 returns early when the prototype is the same object).
import { createServer, IncomingMessage, ServerResponse, type ServerOptions } from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

export class SwitchyardExpressAdapter extends ExpressAdapter {
  private readonly serverOptions: ServerOptions;

  constructor() {
    super();
    const app = this.getInstance<Express>();
    // Express's req.ip runs proxy-addr over X-Forwarded-For on every read; a request reads it several
    // times (limits, the per-IP net, the usage row) and the answer cannot change within one request
    const expressIp = getterOf(app.request, 'ip');
    class Request extends IncomingMessage {
      private resolvedIp?: string;
      get ip(): string {
        return (this.resolvedIp ??= expressIp.call(this) as string);
      }
    }
    class Response extends ServerResponse {}
    Object.setPrototypeOf(Request.prototype, app.request);
    Object.setPrototypeOf(Response.prototype, app.response);
    // Express re-parents onto these; now they are the prototypes the server gives every req and res
    app.request = Request.prototype as Express['request'];
    app.response = Response.prototype as Express['response'];
    this.serverOptions = {
      IncomingMessage: Request,
      ServerResponse: Response as unknown as typeof ServerResponse,
    };
  }

  override initHttpServer(options: NestApplicationOptions): void {
    // HTTPS and Nest's connection tracking stay Nest's own (neither is used by Switchyard today)
    if (options?.httpsOptions || options?.forceCloseConnections) return super.initHttpServer(options);
    this.httpServer = createServer(this.serverOptions, this.getInstance());
  }
}

/** A getter as the prototype chain of `obj` defines it (Express's live on the shared express.request). */
function getterOf(obj: object, name: string): () => unknown {
  for (let o: object | null = obj; o; o = Object.getPrototypeOf(o) as object | null) {
    const get = Object.getOwnPropertyDescriptor(o, name)?.get;
    if (get) return get;
  }
  throw new Error(`express: no ${name} getter on the request prototype`);
}
