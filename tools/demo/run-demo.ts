// `npm run demo` (and `DEMO=1 npm start`): the bundled demo upstream (OpenAI, Anthropic and Gemini wire
// formats, offline) plus Switchyard in front of it, a seeded demo agent, workspace, wallet and key, and a
// ready-to-paste curl. Never against a production deployment: it seeds known records and points every
// provider at the local stand-in.
import '../../apps/v8-flags';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { ApiKeysService } from '@switchyard/auth';
import { AppConfig, Logger, StartupError, exitOnSignals, randomBase62 } from '@switchyard/core';
import { TenancyService } from '@switchyard/tenancy';
import { WalletsService } from '@switchyard/wallets';
import { DemoUpstream, startDemoUpstream } from '../demo-upstream';
import { startSwitchyard, startupFailure } from '../../apps/switchyard';

export const DEMO_AGENT_EMAIL = 'demo-agent@switchyard.local';
const DEMO_CREDIT_NANOS = 25_000_000_000n;

export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + from);
    dir = up;
  }
  return dir;
}

export interface DemoSeed {
  key: string;
  workspaceId: string;
  agentEmail: string;
  /** set only when this run created the demo agent: its generated password, printed once */
  agentPassword: string | null;
}

/** The demo agent (with a generated password), workspace and wallet (credited once), and a fresh key on every start. */
export async function seedDemo(app: INestApplicationContext): Promise<DemoSeed> {
  const config = app.get(AppConfig);
  if (config.nodeEnv === 'production')
    throw new StartupError('the demo seeds a known agent and key: it refuses to run with NODE_ENV=production.');
  const tenancy = app.get(TenancyService);
  const wallets = app.get(WalletsService);
  const keys = app.get(ApiKeysService);
  const admin = {
    userId: 'demo',
    email: 'demo',
    role: 'platform_admin' as const,
    agentId: null,
    tokenId: 'demo',
    tokenKind: 'api' as const,
  };
  const existing = await tenancy.findUserByEmail(DEMO_AGENT_EMAIL);
  let agentId = existing?.agent_id ?? null;
  let agentPassword: string | null = null;
  if (!agentId) {
    agentPassword = randomBase62(20);
    agentId = (await tenancy.createAgent({ name: 'Demo agent', email: DEMO_AGENT_EMAIL, password: agentPassword }))
      .agent.id;
  }
  const page = await tenancy.listWorkspaces(admin, { limit: 1, agent_id: agentId, search: 'Demo workspace' });
  const ws = page.data[0] ?? (await tenancy.createWorkspace(admin, { name: 'Demo workspace', agent_id: agentId }));
  await wallets.credit({ type: 'workspace', id: ws.id }, DEMO_CREDIT_NANOS, {
    note: 'demo credit',
    actorId: null as unknown as string,
    reference: `demo-seed:${ws.id}`,
  });
  const { key } = await keys.issue(ws.id, { name: `demo key ${new Date().toISOString()}` });
  return { key, workspaceId: ws.id, agentEmail: DEMO_AGENT_EMAIL, agentPassword };
}

export interface DemoOptions {
  env?: NodeJS.ProcessEnv;
  /** where the welcome text goes; stdout by default */
  out?: (text: string) => void;
  logDestination?: DestinationStream;
  port?: number;
}

export interface RunningDemo {
  url: string;
  app: INestApplicationContext;
  upstream: DemoUpstream;
  seed: DemoSeed;
  config: AppConfig;
  logger: Logger;
  shutdown: (reason?: string) => Promise<void>;
}

/** Starts the demo upstream and Switchyard in front of it, seeds, and prints the key with a curl line. */
export async function runDemo(o: DemoOptions = {}): Promise<RunningDemo> {
  const base = o.env ?? process.env;
  const upstreamPort = Number(base.DEMO_UPSTREAM_PORT ?? 4010);
  const upstream = await startDemoUpstream({ port: upstreamPort }).catch(() => startDemoUpstream({ port: 0 }));
  const u = upstream.url;
  const env: NodeJS.ProcessEnv = {
    CATALOG_FILE: join(repoRoot(), 'catalog', 'default.yaml'),
    ...base,
    DEMO: '1',
    OPENAI_BASE_URL: `${u}/v1`,
    ANTHROPIC_BASE_URL: u,
    GEMINI_BASE_URL: u,
    DEEPSEEK_BASE_URL: `${u}/v1`,
    QWEN_EMBED_BASE_URL: `${u}/v1`,
    OPENAI_API_KEY: 'demo-upstream-key',
    ANTHROPIC_API_KEY: 'demo-upstream-key',
    GEMINI_API_KEY: 'demo-upstream-key',
    DEEPSEEK_API_KEY: 'demo-upstream-key',
    QWEN_EMBED_API_KEY: 'demo-upstream-key',
  };
  let http: Awaited<ReturnType<typeof startSwitchyard>>;
  try {
    http = await startSwitchyard({
      apps: ['gateway', 'admin', 'worker'],
      env,
      logDestination: o.logDestination,
      port: o.port,
    });
  } catch (e) {
    await upstream.close();
    throw e;
  }
  const shutdown = async (reason?: string) => {
    await http.shutdown(reason);
    await upstream.close();
  };
  let seed: DemoSeed;
  try {
    seed = await seedDemo(http.app);
  } catch (e) {
    await shutdown('demo seeding failed');
    throw e;
  }
  const url = `http://localhost:${http.port}`;
  const signIn = seed.agentPassword
    ? `${seed.agentEmail} / ${seed.agentPassword}   (generated, shown once)`
    : `${seed.agentEmail}   (its password was printed when the demo first created it)`;
  (o.out ?? ((t: string) => process.stdout.write(t)))(`
  Switchyard demo is running on ${url} (demo upstream: ${u})

  API key (workspace "Demo workspace", 25.00 ${http.config.currency} of credit):
    ${seed.key}

  Try it:
    curl ${url}/v1/chat/completions \\
      -H "Authorization: Bearer ${seed.key}" -H "Content-Type: application/json" \\
      -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}'

  Or with the OpenAI SDK (Node):
    import OpenAI from 'openai';
    const client = new OpenAI({ baseURL: '${url}/v1', apiKey: '${seed.key}' });
    const r = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi' }] });

  Demo agent sign-in (admin API and console): ${signIn}
  Health: ${url}/readyz   API docs: ${url}/docs   Admin API: ${url}/admin/api
`);
  return { url, app: http.app, upstream, seed, config: http.config, logger: http.logger, shutdown };
}

/** The CLI: run the demo until SIGTERM/SIGINT; a failure is one line on stderr and exit code 1. */
export async function runDemoFromCli(): Promise<void> {
  try {
    const demo = await runDemo();
    exitOnSignals(demo, demo.logger);
  } catch (e) {
    process.stderr.write(`switchyard demo: ${startupFailure(e)}\n`);
    process.exit(1);
  }
}

if (require.main === module) void runDemoFromCli();
