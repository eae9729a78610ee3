// `npm run demo`: the bundled demo upstream (OpenAI, Anthropic and Gemini wire formats, offline) plus
// Switchyard in front of it, a seeded demo agent, workspace, wallet and key, and a ready-to-paste curl.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApiKeysService } from '@switchyard/auth';
import { exitOnSignals } from '@switchyard/core';
import { TenancyService } from '@switchyard/tenancy';
import { WalletsService } from '@switchyard/wallets';
import { startDemoUpstream } from '../demo-upstream';
import { startSwitchyard } from '../../apps/switchyard';

export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + from);
    dir = up;
  }
  return dir;
}

async function main(): Promise<void> {
  const upstreamPort = Number(process.env.DEMO_UPSTREAM_PORT ?? 4010);
  const upstream = await startDemoUpstream({ port: upstreamPort }).catch(() => startDemoUpstream({ port: 0 }));
  const u = upstream.url;
  const env: NodeJS.ProcessEnv = {
    CATALOG_FILE: join(repoRoot(), 'catalog', 'default.yaml'),
    ...process.env,
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
  const http = await startSwitchyard({ apps: ['gateway', 'admin', 'worker'], env });
  const key = await seedDemo(http.app.get(TenancyService), http.app.get(WalletsService), http.app.get(ApiKeysService));
  const base = `http://localhost:${http.port}`;
  process.stdout.write(`
  Switchyard demo is running on ${base} (demo upstream: ${u})

  API key (workspace "Demo workspace", 25.00 ${http.config.currency} of credit):
    ${key}

  Try it:
    curl ${base}/v1/chat/completions \\
      -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\
      -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello!"}]}'

  Or with the OpenAI SDK (Node):
    import OpenAI from 'openai';
    const client = new OpenAI({ baseURL: '${base}/v1', apiKey: '${key}' });
    const r = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'Hi' }] });

  Health: ${base}/readyz   API docs: ${base}/docs   Admin API: ${base}/admin/api
`);
  exitOnSignals(
    {
      ...http,
      shutdown: async (reason?: string) => {
        await http.shutdown(reason);
        await upstream.close();
      },
    },
    http.logger,
  );
}

/** The demo agent, workspace and wallet (credited once) and a fresh key on every start. */
export async function seedDemo(
  tenancy: TenancyService,
  wallets: WalletsService,
  keys: ApiKeysService,
): Promise<string> {
  const admin = {
    userId: 'demo',
    email: 'demo',
    role: 'platform_admin' as const,
    agentId: null,
    tokenId: 'demo',
    tokenKind: 'api' as const,
  };
  const existing = await tenancy.findUserByEmail('demo-agent@switchyard.local');
  const agentId =
    existing?.agent_id ??
    (
      await tenancy.createAgent({
        name: 'Demo agent',
        email: 'demo-agent@switchyard.local',
        password: 'demo-agent-password',
      })
    ).agent.id;
  const page = await tenancy.listWorkspaces(admin, { limit: 1, agent_id: agentId, search: 'Demo workspace' });
  const ws = page.data[0] ?? (await tenancy.createWorkspace(admin, { name: 'Demo workspace', agent_id: agentId }));
  await wallets.credit({ type: 'workspace', id: ws.id }, 25_000_000_000n, {
    note: 'demo credit',
    actorId: null as unknown as string,
    reference: `demo-seed:${ws.id}`,
  });
  const { key } = await keys.issue(ws.id, { name: `demo key ${new Date().toISOString()}` });
  return key;
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`switchyard demo: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
