// `npm start`: gateway, admin and worker in one process on one port (APPS picks a subset). WEB_CONCURRENCY=N runs N such
// processes (node:cluster) sharing the port; the primary runs migrations once before forking. `DEMO=1 npm start`
// is `npm run demo`: the demo upstream, Switchyard in front of it, seeded records and a printed key (one process).
import './v8-flags';
import cluster from 'node:cluster';
import { AppConfig, createLogger, loadConfig, preflight } from '@switchyard/core';
import { MIGRATIONS } from '../migrations';
import { runDemoFromCli } from '../tools/demo/run-demo';
import { AppName, runFromCli, startupFailure } from './switchyard';

function fail(e: unknown): never {
  process.stderr.write(`switchyard: ${startupFailure(e)}\n`);
  process.exit(1);
}

async function primary(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (e) {
    fail(e);
  }
  if (config.demo) return runDemoFromCli();
  const workers = config.webConcurrency;
  const apps: AppName[] = config.apps;
  if (workers <= 1) return runFromCli(apps);
  try {
    const logger = createLogger(config.logLevel);
    await preflight(config, MIGRATIONS, (m) => logger.info(m));
    logger.info({ workers }, 'starting worker processes');
  } catch (e) {
    fail(e);
  }
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
