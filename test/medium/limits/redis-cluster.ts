// A throwaway three-node Redis Cluster on 127.0.0.1:7000-7002 for the cluster tests (redis-server and
// redis-cli must be installed; starting it takes about two seconds). Reuses a healthy cluster already
// listening there, and then leaves it running.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const CLUSTER_PORTS = [7000, 7001, 7002];

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 })).stdout;
}

async function healthy(): Promise<boolean> {
  try {
    const infos = await Promise.all(CLUSTER_PORTS.map((p) => cli(p, 'cluster', 'info')));
    return infos.every((i) => i.includes('cluster_state:ok'));
  } catch {
    return false;
  }
}

export interface TestCluster {
  url: string;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<TestCluster> {
  const url = `redis://127.0.0.1:${CLUSTER_PORTS[0]}`;
  if (await healthy()) return { url, stop: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'sy-redis-cluster-'));
  for (const port of CLUSTER_PORTS) {
    spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'],
        ...['--cluster-config-file', `nodes-${port}.conf`, '--dir', dir, '--save', '', '--appendonly', 'no'],
      ],
      { stdio: 'ignore', detached: false },
    ).unref();
  }
  for (let i = 0; i < 50; i++) {
    try {
      await Promise.all(CLUSTER_PORTS.map((p) => cli(p, 'ping')));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await run(
    'redis-cli',
    ['--cluster', 'create', ...CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
    { timeout: 20_000 },
  );
  for (let i = 0; i < 100 && !(await healthy()); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await healthy())) throw new Error('the test Redis Cluster did not become healthy');
  return {
    url,
    async stop() {
      await Promise.all(CLUSTER_PORTS.map((p) => cli(p, 'shutdown', 'nosave').catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
