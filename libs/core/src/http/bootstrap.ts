// Builds and serves a Nest app the same way for every entry point (all-in-one, each app alone, tests).
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { Logger, PinoNestLogger } from '../logging/logger';
import { MetricsService } from '../metrics/metrics.service';
import { bodyParsers } from './body-parsers';
import { SwitchyardExpressAdapter } from './express-adapter';
import { requestContext } from './request-context.middleware';
import { ShutdownState } from './shutdown-state';

export interface HttpApp {
  app: NestExpressApplication;
  server: Server;
  port: number;
  url: string;
  /** Graceful stop: refuse new work, let in-flight requests finish (up to the grace), then close pools. */
  shutdown: (reason?: string) => Promise<void>;
}

export interface HttpAppOptions {
  /**
   * Middleware that must see every request, even one whose body fails to parse (the /v1 usage log):
   * mounted after the request context and before the body parsers, which answer parse errors themselves.
   */
  beforeBodyParsers?: (app: NestExpressApplication) => RequestHandler[];
}

export async function createHttpApp(
  rootModule: unknown,
  config: AppConfig,
  logger: Logger,
  options: HttpAppOptions = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(rootModule as never, new SwitchyardExpressAdapter(), {
    bodyParser: false,
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
  });
  const express = app.getHttpAdapter().getInstance();
  // ETag hashing and x-powered-by cost time on every response and help no API client.
  express.disable('etag');
  express.disable('x-powered-by');
  // X-Forwarded-For is believed only from configured proxies (per-IP limits depend on it).
  express.set('trust proxy', config.trustedProxies.length ? config.trustedProxies : false);
  const metrics = config.metricsEnabled ? app.get(MetricsService) : null;
  app.use(requestContext(metrics, logger));
  for (const m of options.beforeBodyParsers?.(app) ?? []) app.use(m);
  app.use(...bodyParsers(config.bodyLimit, logger));
  if (config.docsEnabled) {
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Switchyard')
        .setDescription('OpenAI- and Anthropic-compatible AI gateway (/v1) and its admin API (/admin/api).')
        .setVersion('1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs/openapi.json' });
  }
  return app;
}

export async function listenHttpApp(
  app: NestExpressApplication,
  config: AppConfig,
  logger: Logger,
  port = config.port,
): Promise<HttpApp> {
  await app.listen(port, config.host);
  const server = app.getHttpServer() as Server;
  // Upstream streams can be long; Node's defaults would cut them (requestTimeout 300 s).
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const addr = server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const state = app.get(ShutdownState);
  // Connections that never carried a request (client pools open them ahead of need) are not idle to
  // Node: closeIdleConnections() leaves them open and close() would wait out the whole grace for them.
  const unused = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  server.on('request', (req: IncomingMessage) => unused.delete(req.socket));
  const closeUnused = () => {
    for (const socket of unused) if (socket.bytesRead === 0) socket.destroy();
  };
  let stopping: Promise<void> | undefined;

  const shutdown = (reason = 'shutdown') =>
    (stopping ??= (async () => {
      state.draining = true;
      logger.info({ reason, grace_ms: config.shutdownGraceMs }, 'shutting down: finishing in-flight requests');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive sockets would hold close() open; responses sent from now on close theirs.
      server.on('request', (_req, res) => res.setHeader('connection', 'close'));
      const sweep = setInterval(() => {
        server.closeIdleConnections();
        closeUnused();
      }, 100);
      server.closeIdleConnections();
      closeUnused();
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), config.shutdownGraceMs).unref());
      if ((await Promise.race([closed, timer])) === 'timeout') {
        logger.warn('grace period over: closing the remaining connections');
        server.closeAllConnections();
      }
      clearInterval(sweep);
      // hooks: flush the usage log, post wallet charges and release leases, close pools; bounded, because
      // a client library stuck reconnecting (BullMQ after a Redis outage) must not keep the process alive
      const closing = app.close().then(() => 'closed' as const);
      const limit = new Promise<'timeout'>((r) =>
        setTimeout(() => r('timeout'), config.shutdownGraceMs + 10_000).unref(),
      );
      if ((await Promise.race([closing, limit])) === 'timeout')
        logger.error('closing the application timed out: exiting anyway');
      logger.info('stopped');
    })());

  return { app, server, port: actualPort, url: `http://127.0.0.1:${actualPort}`, shutdown };
}

/** For entry points: SIGTERM and SIGINT stop gracefully; a second signal exits at once. */
export function exitOnSignals(http: Pick<HttpApp, 'shutdown'>, logger: Logger): void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++count > 1) process.exit(1);
    http.shutdown(signal).then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
