// Shared setup of the usage medium tests: a Nest context with CoreModule and UsageModule on a cloned
// database, tenants seeded with plain SQL, and a factory of usage records.
import { randomBytes, randomUUID } from 'node:crypto';
import { Test, TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { CoreModule, MetricsService, createLogger, loadConfig } from '@switchyard/core';
import type { AdminPrincipal } from '@switchyard/tenancy';
import {
  USAGE_WRITER_OPTIONS,
  UsageModule,
  UsagePartitionsService,
  UsageQueryService,
  UsageRecord,
  UsageWriter,
  UsageWriterOptions,
} from '@switchyard/usage';

export interface UsageApp {
  app: TestingModule;
  db: DataSource;
  writer: UsageWriter;
  query: UsageQueryService;
  partitions: UsagePartitionsService;
  metrics: MetricsService;
}

export async function startUsageApp(
  url: string,
  opts: { flushMs?: number; writer?: Partial<UsageWriterOptions> } = {},
): Promise<UsageApp> {
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: url,
    REDIS_PREFIX: `sy:test:${randomBytes(4).toString('hex')}:`,
    USAGE_FLUSH_MS: String(opts.flushMs ?? 50),
  });
  const app = await Test.createTestingModule({
    imports: [CoreModule.forRoot({ config, logger: createLogger('silent') }), UsageModule],
  })
    .overrideProvider(USAGE_WRITER_OPTIONS)
    .useValue(opts.writer ?? {})
    .compile();
  await app.init();
  return {
    app,
    db: app.get(DataSource),
    writer: app.get(UsageWriter),
    query: app.get(UsageQueryService),
    partitions: app.get(UsagePartitionsService),
    metrics: app.get(MetricsService),
  };
}

export interface Tenants {
  agentA: string;
  agentB: string;
  wsA: string;
  wsA2: string;
  wsB: string;
  keyA: string;
  keyA2: string;
  keyB: string;
}

export async function seedTenants(db: DataSource): Promise<Tenants> {
  const one = async (sql: string, params: unknown[]) => ((await db.query(sql, params)) as Array<{ id: string }>)[0].id;
  const agent = (name: string) => one('INSERT INTO agents (name) VALUES ($1) RETURNING id', [name]);
  const ws = (agentId: string, name: string) =>
    one('INSERT INTO workspaces (agent_id, name) VALUES ($1, $2) RETURNING id', [agentId, name]);
  const key = (wsId: string, name: string) =>
    one('INSERT INTO api_keys (workspace_id, name, key_hash, prefix) VALUES ($1, $2, $3, $4) RETURNING id', [
      wsId,
      name,
      randomBytes(32).toString('hex'),
      'sk-sy-test',
    ]);
  const agentA = await agent('Agent A');
  const agentB = await agent('Agent B');
  const wsA = await ws(agentA, 'A one');
  const wsA2 = await ws(agentA, 'A two');
  const wsB = await ws(agentB, 'B one');
  return {
    agentA,
    agentB,
    wsA,
    wsA2,
    wsB,
    keyA: await key(wsA, 'a'),
    keyA2: await key(wsA2, 'a2'),
    keyB: await key(wsB, 'b'),
  };
}

let seq = 0;
export function usageRecord(over: Partial<UsageRecord> = {}): UsageRecord {
  seq++;
  return {
    id: randomUUID(),
    request_id: `req_${seq}`,
    created_at: new Date(),
    agent_id: null,
    workspace_id: null,
    api_key_id: null,
    endpoint: 'chat.completions',
    model_requested: 'gpt-4o-mini',
    model_used: 'gpt-4o-mini',
    provider_id: 'openai',
    status: 200,
    error_code: null,
    input_tokens: 10,
    cached_input_tokens: 0,
    output_tokens: 5,
    cost: 1000n,
    latency_ms: 120,
    ttft_ms: null,
    stream: false,
    client_label: null,
    fallback_depth: 0,
    client_ip: '127.0.0.1',
    ...over,
  };
}

export function agentPrincipal(agentId: string): AdminPrincipal {
  return {
    userId: randomUUID(),
    email: 'agent@example.com',
    role: 'agent',
    agentId,
    tokenId: randomUUID(),
    tokenKind: 'session',
  };
}

export function adminPrincipal(): AdminPrincipal {
  return {
    userId: randomUUID(),
    email: 'admin@example.com',
    role: 'platform_admin',
    agentId: null,
    tokenId: randomUUID(),
    tokenKind: 'session',
  };
}

export async function count(db: DataSource, sql: string, params: unknown[] = []): Promise<number> {
  const rows = (await db.query(sql, params)) as Array<{ n: string | number }>;
  return Number(rows[0].n);
}

/** Polls until `check` is true (the writer works on timers). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function counterValue(c: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await c.get()).values.reduce((s, v) => s + v.value, 0);
}
