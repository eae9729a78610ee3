// How every entry point starts: validated config, pino, preflight (database, migrations, Redis), then
// the chosen apps in one Nest application on one port. `npm start` runs all three; each app can run alone.
import { DynamicModule, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { QueryFailedError } from 'typeorm';
import {
  AppConfig,
  ConfigError,
  CoreModule,
  HttpApp,
  Logger,
  StartupError,
  createHttpApp,
  createLogger,
  exitOnSignals,
  isConnectionError,
  listenHttpApp,
  loadConfig,
  preflight,
} from '@switchyard/core';
import { MIGRATIONS } from '../migrations';
import { AdminModule } from './admin/src/admin.module';
import { GatewayModule, v1UsageRecorder } from './gateway/src/gateway.module';
import { WorkerModule } from './worker/src/worker.module';

export type AppName = 'gateway' | 'admin' | 'worker';

const APP_MODULES = { gateway: GatewayModule, admin: AdminModule, worker: WorkerModule } as const;

export function rootModule(config: AppConfig, logger: Logger, apps: AppName[]): DynamicModule {
  @Module({})
  class SwitchyardModule {}
  return {
    module: SwitchyardModule,
    imports: [CoreModule.forRoot({ config, logger }), ...apps.map((a) => APP_MODULES[a])],
  };
}

export interface StartOptions {
  apps: AppName[];
  env?: NodeJS.ProcessEnv;
  /** where logs go (tests capture them); stdout by default */
  logDestination?: DestinationStream;
  port?: number;
}

export async function startSwitchyard(o: StartOptions): Promise<HttpApp & { config: AppConfig; logger: Logger }> {
  const config = loadConfig(o.env ?? process.env);
  const logger = createLogger(config.logLevel, o.logDestination);
  await preflight(config, MIGRATIONS, (msg) => logger.info(msg));
  const app = await createHttpApp(rootModule(config, logger, o.apps), config, logger, {
    beforeBodyParsers: o.apps.includes('gateway') ? v1UsageRecorder : undefined,
  });
  const http = await listenHttpApp(app, config, logger, o.port ?? config.port);
  logger.info({ url: http.url, apps: o.apps }, 'Switchyard is listening');
  return { ...http, config, logger };
}

/** For `main.ts` files: start, stop gracefully on signals, and fail with one clear line. */
export async function runFromCli(apps: AppName[]): Promise<void> {
  try {
    const http = await startSwitchyard({ apps });
    exitOnSignals(http, http.logger);
  } catch (e) {
    process.stderr.write(`switchyard: ${startupFailure(e)}\n`);
    process.exit(1);
  }
}

/** What stopped start-up, in one line; only a genuinely unexpected error (a bug) keeps its stack. */
export function startupFailure(e: unknown): string {
  if (e instanceof StartupError || e instanceof ConfigError || isCatalogError(e)) return (e as Error).message;
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  if (e instanceof QueryFailedError) {
    const missing = (e.driverError as { code?: string } | undefined)?.code === '42P01';
    return `a database query failed during start-up: ${message}${missing ? ' (is the database migrated? MIGRATIONS_RUN=false skips the migrations)' : ''}`;
  }
  if (isConnectionError(e)) return `lost the connection to PostgreSQL or Redis during start-up: ${message}`;
  return `failed to start: ${(e as Error).stack ?? message}`;
}

function isCatalogError(e: unknown): boolean {
  return e instanceof Error && /^CATALOG_FILE /.test(e.message);
}
