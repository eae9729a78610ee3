// `npm start`: gateway, admin and worker in one process on one port (APPS picks a subset). WEB_CONCURRENCY=N runs N such
// processes (node:cluster) sharing the port; the primary runs migrations once before forking.
import cluster from 'node:cluster';
import { ConfigError, StartupError, createLogger, loadConfig, preflight } from '@switchyard/core';
import { MIGRATIONS } from '../migrations';
import { AppName, runFromCli } from './switchyard';

async function primary(): Promise<void> {
  let workers: number;
  let apps: AppName[];
  try {
    const config = loadConfig();
    workers = config.webConcurrency;
    apps = config.apps;
    if (workers > 1) {
      const logger = createLogger(config.logLevel);
      await preflight(config, MIGRATIONS, (m) => logger.info(m));
      logger.info({ workers }, 'starting worker processes');
    }
  } catch (e) {
    if (e instanceof StartupError || e instanceof ConfigError) {
      process.stderr.write(`switchyard: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  if (workers <= 1) return runFromCli(apps);
  let stopping = false;
  const fork = () => cluster.fork({ MIGRATIONS_RUN: 'false' });
  for (let i = 0; i < workers; i++) fork();
  cluster.on('exit', (w, code) => {
    if (!stopping) {
      process.stderr.write(`switchyard: worker ${w.process.pid} exited (${code}); starting another\n`);
      fork();
    } else if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (cluster.isPrimary) void primary();
else void runFromCli(loadConfig().apps);
