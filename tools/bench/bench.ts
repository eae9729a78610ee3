// `npm run bench`: what the gateway adds to a request, measured against the demo upstream called
// directly and against a bare passthrough proxy (the floor any Node proxy costs here). Four OS
// processes besides Postgres and Redis: the demo upstream, the bare proxy (tools/bench/bare-proxy.ts),
// the gateway (dist/apps/main.js, gateway + admin + worker as `npm start` runs it) on a throwaway
// database and Redis prefix, and this process, which seeds a tenant through the admin API and drives
// the load (autocannon, undici). Prints tables and writes the raw numbers to bench-results.json.
// Options: see HELP below and tools/bench/README.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { formatSummary, loadProfile, summarise, Summary } from './cpuprofile-summary';
import { LoadRun, runLoad, runSequentialStream, stopLoad, stopSequential, Target, TtfbRun } from './load';
import { Child, CpuMeter, freePort, repoRoot, rssMb, startChild, stopChild, waitForLine, waitReady } from './processes';
import { createFreeModel, seedTenant, walletOf } from './seed';
import { deleteRedisKeys, dropDatabase, recorded, Recorded, serverVersions } from './store';

const HELP = `npm run bench -- [options]
  --duration S          seconds per measured scenario (default 8; --quick: 1.5)
  --quick               smoke run of about 30 s (short scenarios, fewer sequential requests)
  --connections N       connections of the throughput runs (default 50)
  --rate R              requests/s of the fixed-rate runs (default 500)
  --rate-connections N  connections sharing the fixed rate (default 50)
  --rate-rounds N       the fixed rate's direct, floor and gateway runs, N times in turn; the tables show
                        the round whose gateway - direct p50 is the median (default 3; --quick: 1)
  --rate-shards N       autocannon instances for the fixed rate, started 1/N s apart (default: one per
                        connection; 1 = a single instance, whose connections all send at the start of
                        each second: bursts, not an even rate)
  --latency MS          demo upstream latency_ms (default 20)
  --tokens N            words per reply / stream content events (default 12)
  --ttfb-requests N     sequential stream requests per target (default 300; --quick: 50)
  --only LIST           comma list of groups: c50,stream,rate,c1,ttfb (default: all)
  --no-billing          skip the free-model (billing off) runs
  --no-floor            skip the bare passthrough proxy (node:http + undici Pool, no auth/limits/billing)
  --web-concurrency N   WEB_CONCURRENCY of the gateway (default 1)
  --wait-quiet S        before each scenario wait up to S seconds for other processes to use < 10 % of
                        the machine (default 0: measure at once; the "other cores" column shows them)
  --gateway-node-args "FLAGS"  extra node flags for the gateway process (e.g. "--perf-basic-prof")
  --floor-node-args "FLAGS"    the same for the bare floor (e.g. a -r preload tracing both alike)
  --profile             run the gateway with --cpu-prof and print where its time goes per scenario
  --out FILE            raw results (default bench-results.json at the repo root)
`;

const GROUPS = ['c50', 'stream', 'rate', 'c1', 'ttfb'] as const;
type Group = (typeof GROUPS)[number];

interface Args {
  quick: boolean;
  durationS: number;
  warmupS: number;
  connections: number;
  rate: number;
  rateConnections: number;
  rateShards: number;
  rateRounds: number;
  latencyMs: number;
  tokens: number;
  ttfbRequests: number;
  only: Set<Group>;
  billing: boolean;
  floor: boolean;
  webConcurrency: number;
  profile: boolean;
  waitQuietS: number;
  gatewayNodeArgs: string[];
  floorNodeArgs: string[];
  out: string;
}

function parseArgs(argv: string[], root: string): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0) return argv[i + 1];
    const inline = argv.find((a) => a.startsWith(`--${name}=`));
    return inline?.slice(name.length + 3);
  };
  const num = (name: string, def: number, min: number): number => {
    const v = get(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name}: expected a number >= ${min}, got ${v}`);
    return n;
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const quick = argv.includes('--quick');
  const onlyRaw = get('only');
  const only = new Set<Group>();
  for (const g of onlyRaw ? onlyRaw.split(',') : GROUPS) {
    if (!(GROUPS as readonly string[]).includes(g))
      throw new Error(`--only: unknown group ${g} (${GROUPS.join(', ')})`);
    only.add(g as Group);
  }
  return {
    quick,
    durationS: num('duration', quick ? 1.5 : 8, 0.5),
    warmupS: quick ? 1 : 3,
    connections: num('connections', 50, 1),
    rate: num('rate', 500, 1),
    rateConnections: num('rate-connections', 50, 1),
    rateShards: num('rate-shards', num('rate-connections', 50, 1), 1),
    rateRounds: num('rate-rounds', quick ? 1 : 3, 1),
    latencyMs: num('latency', 20, 0),
    tokens: num('tokens', 12, 1),
    ttfbRequests: num('ttfb-requests', quick ? 50 : 300, 1),
    only,
    billing: !argv.includes('--no-billing'),
    floor: !argv.includes('--no-floor'),
    webConcurrency: num('web-concurrency', 1, 1),
    profile: argv.includes('--profile'),
    waitQuietS: num('wait-quiet', 0, 0),
    gatewayNodeArgs: (get('gateway-node-args') ?? '').split(/\s+/).filter(Boolean),
    floorNodeArgs: (get('floor-node-args') ?? '').split(/\s+/).filter(Boolean),
    out: get('out') ?? join(root, 'bench-results.json'),
  };
}

// ------------------------------------------------------------------ state and cleanup

const PG_BASE = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const state: {
  upstream?: Child;
  floor?: Child;
  gateway?: Child;
  dbName?: string;
  redisPrefix?: string;
  cleaning?: Promise<void>;
  aborted: boolean;
} = { aborted: false };

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

/** Idempotent: stops the load, the gateway (gracefully: it flushes), the bare proxy, the upstream; drops the database and keys. */
function cleanup(): Promise<void> {
  return (state.cleaning ??= (async () => {
    stopLoad();
    stopSequential();
    if (state.gateway)
      await stopChild(state.gateway, 8000).catch((e: unknown) => log(`stopping the gateway: ${(e as Error).message}`));
    if (state.floor)
      await stopChild(state.floor, 3000).catch((e: unknown) => log(`stopping the bare proxy: ${(e as Error).message}`));
    if (state.upstream)
      await stopChild(state.upstream, 3000).catch((e: unknown) =>
        log(`stopping the upstream: ${(e as Error).message}`),
      );
    if (state.dbName)
      await dropDatabase(PG_BASE, state.dbName).catch((e: unknown) =>
        log(`dropping database ${state.dbName}: ${(e as Error).message}`),
      );
    if (state.redisPrefix) {
      await deleteRedisKeys(REDIS_URL, state.redisPrefix).catch((e: unknown) =>
        log(`deleting Redis keys ${state.redisPrefix}*: ${(e as Error).message}`),
      );
    }
  })());
}

function onSignal(signal: NodeJS.Signals): void {
  if (state.aborted) {
    log(`${signal} again: exiting without waiting for cleanup`);
    process.exit(130);
  }
  state.aborted = true;
  log(`${signal}: stopping and cleaning up (database ${state.dbName ?? '-'}, Redis ${state.redisPrefix ?? '-'}*)`);
  void cleanup().finally(() => process.exit(130));
}

// ------------------------------------------------------------------ measurement

/** direct = the demo upstream; floor = through the bare proxy; gateway = through the gateway */
type TargetKind = 'direct' | 'floor' | 'gateway';

interface Measured {
  name: string;
  group: Group;
  target: TargetKind;
  model: string | null;
  stream: boolean;
  mode: string;
  run: LoadRun;
  cpu: CpuPerRequest;
  /** CLOCK_MONOTONIC µs, to cut the scenario out of a CPU profile */
  windowUs: [number, number];
}

interface CpuPerRequest {
  /** CPU ms per completed request, per process group */
  msPerRequest: Record<string, number>;
  /** CPU use over the run, in cores (1 = one core busy) */
  cores: Record<string, number>;
  machineBusyPct: number | null;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

let waitQuietS = 0;

/** Waits (up to --wait-quiet seconds) until processes outside the bench use under 10 % of the machine. */
async function quiet(meter: CpuMeter): Promise<void> {
  if (!waitQuietS) return;
  const until = Date.now() + waitQuietS * 1000;
  for (;;) {
    const other = await meter.otherLoad(500);
    if (other === null || other < 0.1) return;
    if (Date.now() > until) {
      process.stderr.write(`(machine still busy: ${(100 * other).toFixed(0)} % used by others) `);
      return;
    }
  }
}

async function measure(
  meter: CpuMeter,
  spec: { name: string; group: Group; target: TargetKind; model: string | null; stream: boolean },
  t: Target,
  o: { connections: number; durationS: number; overallRate?: number; shards?: number },
): Promise<Measured> {
  if (state.aborted) throw new Error('aborted');
  const mode = o.overallRate ? `${o.overallRate} req/s, ${o.connections} conns` : `c=${o.connections}`;
  process.stderr.write(`bench: ${spec.name.padEnd(28)} ${mode.padEnd(26)} ${o.durationS} s ... `);
  await quiet(meter);
  const a = meter.snapshot();
  const t0 = nowUs();
  const run = await runLoad(t, o);
  const t1 = nowUs();
  const b = meter.snapshot();
  const d = CpuMeter.diff(a, b);
  const cpu: CpuPerRequest = {
    msPerRequest: {},
    cores: {},
    machineBusyPct: d.machineBusy === null ? null : 100 * d.machineBusy,
  };
  for (const [k, ms] of Object.entries(d.ms)) {
    cpu.msPerRequest[k] = run.ok ? ms / run.ok : NaN;
    cpu.cores[k] = ms / d.wallMs;
  }
  process.stderr.write(
    `${run.rps.toFixed(0)} req/s, p50 ${run.latency.p50.toFixed(2)} ms, p99 ${run.latency.p99.toFixed(2)} ms` +
      (run.non2xx || run.errors || run.timeouts
        ? `  (!! non-2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts})`
        : '') +
      '\n',
  );
  await sleep(300); // settlements and usage rows of the last requests land before the next run
  return { ...spec, mode, run, cpu, windowUs: [t0, t1] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(t: Target, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await fetch(t.origin + t.path, {
      method: 'POST',
      headers: t.headers,
      body: t.body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await r.text();
    if (r.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${what}: HTTP ${r.status} ${text.slice(0, 500)}`);
    await sleep(250);
  }
}

// ------------------------------------------------------------------ output

const f2 = (x: number | undefined | null) =>
  x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(2);
const f0 = (x: number | undefined | null) =>
  x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(0);
const signed = (x: number | undefined | null) =>
  x === undefined || x === null || !Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : '-');

/** A row of one cell is a section heading: printed as it is, not counted in the column widths. */
function table(head: string[], rows: string[][], leftCols = 1): string {
  const cells = rows.filter((r) => r.length > 1);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.length === 1
      ? r[0]
      : head
          .map((_, i) => (i < leftCols ? (r[i] ?? '').padEnd(w[i]) : (r[i] ?? '').padStart(w[i])))
          .join('  ')
          .trimEnd();
  return [fmt(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Latency (and throughput, CPU) of one target in one measurement, for the three-way tables. */
interface Point {
  rps?: number;
  p50: number;
  p99: number;
  cpuMs?: number;
}

/** CPU ms per request of the process in front of the upstream: the bare proxy or the gateway (none direct). */
const proxyCpu = (r: Measured): number => (r.target === 'direct' ? NaN : (r.cpu.msPerRequest[r.target] ?? NaN));

const point = (r: Measured): Point => ({
  rps: r.run.rps,
  p50: r.run.latency.p50,
  p99: r.run.latency.p99,
  cpuMs: proxyCpu(r),
});

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const root = repoRoot();
  const args = parseArgs(process.argv.slice(2), root);
  waitQuietS = args.waitQuietS;
  const rand = randomBytes(4).toString('hex');
  const guard = join(root, 'dist', 'tools', 'bench', 'child-guard.js');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const startedAt = new Date();
  const t0 = Date.now();

  // ---- demo upstream
  const upstream = (state.upstream = startChild(
    'demo upstream',
    [join(root, 'dist/tools/demo-upstream/main.js'), '--port', '0'],
    { PATH: process.env.PATH },
    guard,
  ));
  const m = await waitForLine(upstream, /listening on (http:\/\/\S+)/, 15_000);
  const up = m[1];
  const knobs = { latency_ms: args.latencyMs, tokens: args.tokens, tps: 0, ttft_ms: 0 };
  const kr = await fetch(`${up}/__demo/defaults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(knobs),
  });
  if (!kr.ok) throw new Error(`setting the demo upstream defaults: HTTP ${kr.status} ${await kr.text()}`);
  await kr.arrayBuffer().catch(() => undefined);

  // ---- bare passthrough proxy (the floor): node:http + one undici Pool to the upstream
  let fl: string | null = null;
  if (args.floor) {
    const floor = (state.floor = startChild(
      'bare proxy',
      [...args.floorNodeArgs, join(root, 'dist/tools/bench/bare-proxy.js'), '--upstream', up, '--port', '0'],
      { PATH: process.env.PATH },
      guard,
    ));
    fl = (await waitForLine(floor, /bare proxy listening on (http:\/\/\S+)/, 15_000))[1];
  }

  // ---- gateway
  state.dbName = `switchyard_bench_${rand}`;
  state.redisPrefix = `sy:bench:${rand}:`;
  const port = await freePort();
  const adminUser = { email: 'bench-admin@bench.switchyard.local', password: randomBytes(12).toString('hex') };
  const gwEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    MASTER_KEY: randomBytes(32).toString('hex'),
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `${PG_BASE}/${state.dbName}`,
    REDIS_URL,
    REDIS_PREFIX: state.redisPrefix,
    LOG_LEVEL: 'warn',
    ADMIN_EMAIL: adminUser.email,
    ADMIN_PASSWORD: adminUser.password,
    CATALOG_FILE: join(root, 'catalog', 'default.yaml'),
    OPENAI_BASE_URL: `${up}/v1`,
    ANTHROPIC_BASE_URL: up,
    GEMINI_BASE_URL: up,
    DEEPSEEK_BASE_URL: `${up}/v1`,
    QWEN_EMBED_BASE_URL: `${up}/v1`,
    OPENAI_API_KEY: 'bench-upstream-key',
    ANTHROPIC_API_KEY: 'bench-upstream-key',
    GEMINI_API_KEY: 'bench-upstream-key',
    DEEPSEEK_API_KEY: 'bench-upstream-key',
    QWEN_EMBED_API_KEY: 'bench-upstream-key',
    // limits are checked on every request but never reached: the config maximum (at this rpm a busy
    // key is counted from the process's rpm lease; the key with a tpm cap goes to Redis every time)
    DEFAULT_KEY_RPM: '1000000',
    IP_RATE_LIMIT: '100000000',
    WEB_CONCURRENCY: String(args.webConcurrency),
    SHUTDOWN_GRACE_MS: '3000',
  };
  const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'switchyard-bench-prof-')) : null;
  const nodeFlags = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...args.gatewayNodeArgs];
  log(`starting the gateway on 127.0.0.1:${port} (database ${state.dbName}, Redis prefix ${state.redisPrefix})`);
  const gateway = (state.gateway = startChild(
    'gateway',
    [...nodeFlags, join(root, 'dist/apps/main.js')],
    gwEnv,
    guard,
  ));
  const gw = `http://127.0.0.1:${port}`;
  await waitReady(gateway, `${gw}/readyz`, 90_000);

  // ---- tenant, free model
  const tenant = await seedTenant(gw, adminUser, '1000000.00');
  const freeModel = 'bench-free';
  if (args.billing) await createFreeModel(gw, tenant.adminToken, freeModel);

  const messages = [{ role: 'user', content: 'Hello from the Switchyard benchmark, how are you today?' }];
  const json = (o: object) => JSON.stringify(o);
  const upstreamHeaders = { 'content-type': 'application/json', authorization: 'Bearer bench-upstream-key' };
  const gwHeaders = { 'content-type': 'application/json', authorization: `Bearer ${tenant.key}` };
  const targets = {
    directJson: {
      origin: up,
      path: '/v1/chat/completions',
      headers: upstreamHeaders,
      body: json({ model: 'gpt-4o-mini', messages }),
    },
    // what the gateway itself sends upstream for a stream asks for the usage chunk too
    directStream: {
      origin: up,
      path: '/v1/chat/completions',
      headers: upstreamHeaders,
      body: json({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } }),
    },
    gwJson: {
      origin: gw,
      path: '/v1/chat/completions',
      headers: gwHeaders,
      body: json({ model: 'gpt-4o-mini', messages }),
    },
    gwStream: {
      origin: gw,
      path: '/v1/chat/completions',
      headers: gwHeaders,
      body: json({ model: 'gpt-4o-mini', messages, stream: true }),
    },
    gwFree: {
      origin: gw,
      path: '/v1/chat/completions',
      headers: gwHeaders,
      body: json({ model: freeModel, messages }),
    },
    // a key with a tpm cap: no rpm lease, its check (reserving tokens) goes to Redis on every request
    gwTpmCap: {
      origin: gw,
      path: '/v1/chat/completions',
      headers: { ...gwHeaders, authorization: `Bearer ${tenant.tpmKey}` },
      body: json({ model: 'gpt-4o-mini', messages }),
    },
  } satisfies Record<string, Target>;
  // the floor forwards exactly what the upstream is sent directly
  const floorTargets = fl
    ? {
        json: { ...targets.directJson, origin: fl },
        stream: { ...targets.directStream, origin: fl },
      }
    : null;
  await probe(targets.directJson, 'demo upstream (chat)');
  await probe(targets.directStream, 'demo upstream (stream)');
  if (floorTargets) {
    await probe(floorTargets.json, 'bare proxy (chat)');
    await probe(floorTargets.stream, 'bare proxy (stream)');
  }
  await probe(targets.gwJson, 'gateway (gpt-4o-mini)');
  await probe(targets.gwTpmCap, 'gateway (gpt-4o-mini, key with a tpm cap)');
  await probe(targets.gwStream, 'gateway (gpt-4o-mini, stream)');
  if (args.billing) await probe(targets.gwFree, `gateway (${freeModel})`); // waits for the catalog reload
  const walletBefore = await walletOf(gw, tenant.adminToken, tenant.workspaceId);

  const meter = new CpuMeter(() => ({
    gateway: [gateway.proc.pid!],
    upstream: [upstream.proc.pid!],
    ...(state.floor ? { floor: [state.floor.proc.pid!] } : {}),
    // this gateway's connections only (other databases on the server are someone else's work)
    postgres: (p) => p.comm === 'postgres' && p.cmdline().includes(` ${state.dbName} `),
    // shared: other clients of the same Redis count here too
    redis: (p) => p.comm.startsWith('redis-server'),
  }));
  const otherBefore = await meter.otherLoad(1000);
  if (otherBefore !== null && otherBefore > 0.1) {
    log(
      `WARNING: other processes use ${(100 * otherBefore).toFixed(0)} % of the machine right now; the numbers will be skewed (see the "other" column)`,
    );
  }

  // ---- warm-up (JIT, connection pools, caches): not measured
  log(`warming up (${args.warmupS} s on the gateway, less on the rest)`);
  const short = Math.max(0.5, args.warmupS / 3);
  await runLoad(targets.gwJson, { connections: args.connections, durationS: args.warmupS });
  await runLoad(targets.gwStream, { connections: args.connections, durationS: short });
  if (args.billing) await runLoad(targets.gwFree, { connections: args.connections, durationS: short });
  await runLoad(targets.directJson, { connections: args.connections, durationS: short });
  await runLoad(targets.directStream, { connections: args.connections, durationS: short });
  if (floorTargets) {
    await runLoad(floorTargets.json, { connections: args.connections, durationS: short });
    await runLoad(floorTargets.stream, { connections: args.connections, durationS: short });
  }
  await sleep(500);

  // ---- scenarios (in each group: direct, then the floor, then the gateway)
  const runs: Measured[] = [];
  /** gateway - direct at the fixed rate, per round (--rate-rounds) */
  let rateRounds: Array<{ p50: number; p99: number }> = [];
  const d = args.durationS;
  const c = args.connections;
  const want = (g: Group) => args.only.has(g);
  const priced = { model: 'gpt-4o-mini', stream: false };
  const pricedStream = { model: 'gpt-4o-mini', stream: true };
  const free = { model: freeModel, stream: false };
  type Run = [name: string, target: TargetKind, spec: { model: string; stream: boolean }, t: Target | undefined];
  /** measures each run that has a target (no floor / no billing: skipped) */
  const scenario = async (group: Group, o: Parameters<typeof measure>[3], list: Run[]) => {
    for (const [name, target, spec, t] of list)
      if (t) runs.push(await measure(meter, { name, group, target, ...spec }, t, o));
  };
  const gwFree = args.billing ? targets.gwFree : undefined;
  if (want('c50')) {
    await scenario('c50', { connections: c, durationS: d }, [
      ['c50 direct', 'direct', priced, targets.directJson],
      ['c50 floor', 'floor', priced, floorTargets?.json],
      ['c50 gateway', 'gateway', priced, targets.gwJson],
      ['c50 gateway free', 'gateway', free, gwFree],
    ]);
  }
  if (want('stream')) {
    await scenario('stream', { connections: c, durationS: d }, [
      ['c50 direct stream', 'direct', pricedStream, targets.directStream],
      ['c50 floor stream', 'floor', pricedStream, floorTargets?.stream],
      ['c50 gateway stream', 'gateway', pricedStream, targets.gwStream],
    ]);
  }
  if (want('rate')) {
    // whole seconds: autocannon's rate is a per-second quota per connection
    const o = {
      connections: args.rateConnections,
      durationS: Math.ceil(d),
      overallRate: args.rate,
      shards: args.rateShards,
    };
    // direct, floor and gateway in turn, several rounds: the machine's state drifts over minutes (the
    // same code's CPU per request moves by a third), and each round compares runs seconds apart
    const list: Run[] = [
      ['rate direct', 'direct', priced, targets.directJson],
      ['rate floor', 'floor', priced, floorTargets?.json],
      ['rate gateway', 'gateway', priced, targets.gwJson],
    ];
    const rounds: Measured[][] = [];
    for (let r = 0; r < args.rateRounds; r++) {
      const round: Measured[] = [];
      for (const [name, target, spec, t] of list)
        if (t) round.push(await measure(meter, { name, group: 'rate', target, ...spec }, t, o));
      rounds.push(round);
    }
    rateRounds = rounds.map(roundAdded);
    const median = rateRounds.map((a, i) => ({ a, i })).sort((x, y) => x.a.p50 - y.a.p50)[
      Math.floor((rounds.length - 1) / 2)
    ].i;
    runs.push(...rounds[median]);
    await scenario('rate', o, [
      ['rate gateway free', 'gateway', free, gwFree],
      ['rate gateway tpm cap', 'gateway', priced, targets.gwTpmCap],
    ]);
  }
  if (want('c1')) {
    await scenario('c1', { connections: 1, durationS: d }, [
      ['c1 direct', 'direct', priced, targets.directJson],
      ['c1 floor', 'floor', priced, floorTargets?.json],
      ['c1 gateway', 'gateway', priced, targets.gwJson],
      ['c1 gateway free', 'gateway', free, gwFree],
    ]);
  }
  let ttfb: {
    direct: TtfbRun;
    floor: TtfbRun | null;
    gateway: TtfbRun;
    windowsUs: Record<string, [number, number]>;
  } | null = null;
  if (want('ttfb') && !state.aborted) {
    const n = args.ttfbRequests;
    const warm = Math.min(20, Math.ceil(n / 10));
    const sequential = async (name: string, t: Target) => {
      process.stderr.write(`bench: ${name.padEnd(28)} ${`${n} sequential streams`.padEnd(26)} ... `);
      await quiet(meter);
      if (state.aborted) throw new Error('aborted');
      const a = nowUs();
      const run = await runSequentialStream(t, n, warm);
      const window: [number, number] = [a, nowUs()];
      process.stderr.write(
        `first byte p50 ${run.firstByte.p50.toFixed(2)} ms, p99 ${run.firstByte.p99.toFixed(2)} ms\n`,
      );
      return { run, window };
    };
    const direct = await sequential('ttfb direct', targets.directStream);
    const floor = floorTargets ? await sequential('ttfb floor', floorTargets.stream) : null;
    const viaGw = await sequential('ttfb gateway', targets.gwStream);
    ttfb = {
      direct: direct.run,
      floor: floor?.run ?? null,
      gateway: viaGw.run,
      windowsUs: { direct: direct.window, ...(floor ? { floor: floor.window } : {}), gateway: viaGw.window },
    };
  }

  if (state.aborted) throw new Error('aborted');
  // ---- what the gateway recorded (after a graceful stop: the usage buffer is flushed)
  const walletAfter = await walletOf(gw, tenant.adminToken, tenant.workspaceId);
  const gatewayRssMb = rssMb(gateway.proc.pid!);
  const floorRssMb = state.floor ? rssMb(state.floor.proc.pid!) : null;
  log('stopping the gateway (graceful: flushes usage, settles holds)');
  await stopChild(gateway, 15_000);
  let rec: Recorded | null = null;
  try {
    rec = await recorded(`${PG_BASE}/${state.dbName}`);
  } catch (e) {
    log(`reading usage_log: ${(e as Error).message}`);
  }

  // ---- report
  const versions = await serverVersions(PG_BASE, REDIS_URL);
  const git = gitState(root);
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? null,
    node: process.version,
    os: `${process.platform} ${release()}`,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    loadavgAtStart: loadavg(),
    postgres: versions.postgres,
    redis: versions.redis,
  };
  const settings = {
    upstreamKnobs: knobs,
    durationS: d,
    warmupS: args.warmupS,
    connections: c,
    rate: args.rate,
    rateConnections: args.rateConnections,
    rateShards: args.rateShards,
    ttfbRequests: args.ttfbRequests,
    quick: args.quick,
    gateway: {
      apps: 'gateway+admin+worker (dist/apps/main.js)',
      WEB_CONCURRENCY: args.webConcurrency,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DEFAULT_KEY_RPM: gwEnv.DEFAULT_KEY_RPM,
      IP_RATE_LIMIT: gwEnv.IP_RATE_LIMIT,
      cpuProfile: !!profileDir,
      nodeArgs: args.gatewayNodeArgs,
    },
    floor: args.floor
      ? 'tools/bench/bare-proxy.ts: node:http server + one undici Pool (keep-alive, up to 1024 connections) to the demo upstream; method, path, headers (but hop-by-hop) and body forwarded, the answer piped back chunk by chunk; no auth, limits or billing'
      : null,
    code: git,
    models: {
      priced: 'gpt-4o-mini (catalog/default.yaml)',
      free: args.billing ? `${freeModel} (admin API, no price, same route)` : null,
    },
    loadGenerator:
      'autocannon 9 in the bench process (pipelining 1; latencies from its per-response timer, full precision); undici Pool for the sequential streams',
  };
  const by = (name: string) => runs.find((r) => r.name === name);
  const out: string[] = [];
  const note = `machine: ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, ${machine.os}, Postgres ${machine.postgres ?? '?'}, Redis ${machine.redis ?? '?'}; all on loopback, load generator on the same machine`;
  out.push('');
  out.push(`Switchyard benchmark  ${startedAt.toISOString()}${args.quick ? '  (QUICK: smoke numbers only)' : ''}`);
  out.push(note);
  if (git) {
    out.push(
      `code: ${git.head}${git.dirty.length ? ` + uncommitted changes in ${git.dirty.length} file(s) outside tools/bench (${git.dirty.slice(0, 6).join(', ')}${git.dirty.length > 6 ? ', ...' : ''})` : ''}`,
    );
  }
  out.push(
    `settings: demo upstream latency_ms=${knobs.latency_ms}, tokens=${knobs.tokens}, tps=0 (stream in one write); ${d} s per scenario after ${args.warmupS} s warm-up; ` +
      `gateway = dist/apps/main.js (gateway+admin+worker, WEB_CONCURRENCY=${args.webConcurrency}, NODE_ENV=production, LOG_LEVEL=warn, auth + limits on every request: rpm from the process's lease, one check in many in Redis; "key with a tpm cap": Redis on every request)${profileDir ? ', UNDER --cpu-prof' : ''}; ` +
      (args.floor
        ? 'bare floor = tools/bench/bare-proxy.ts in its own process (node:http + one undici Pool, keep-alive, streams the answer back; no auth, limits, billing): what any Node proxy costs here'
        : 'bare floor: skipped (--no-floor)'),
  );

  // Tables 1 and 3: each measurement as a section of rows (direct, bare floor, gateway), each row with
  // what it adds over direct and, for the gateway, over the floor (columns left out with --no-floor).
  const withFloor = args.floor;
  const section = (label: string, dir: Point, floor: Point | undefined, gwy: Point, withRps: boolean): string[][] => {
    const row = (name: string, p: Point) => {
      const isDirect = p === dir;
      const overFloor = (x: () => string) => (p !== gwy ? '' : floor ? x() : '-');
      return [
        `  ${name}`,
        ...(withRps ? [f0(p.rps)] : []),
        f2(p.p50),
        f2(p.p99),
        ...(withRps ? [isDirect ? '' : ratio(p.rps, dir.rps)] : []),
        ...(withRps && withFloor ? [overFloor(() => ratio(p.rps, floor!.rps))] : []),
        isDirect ? '' : signed(p.p50 - dir.p50),
        isDirect ? '' : signed(p.p99 - dir.p99),
        ...(withFloor
          ? [overFloor(() => signed(p.p50 - floor!.p50)), overFloor(() => signed(p.p99 - floor!.p99))]
          : []),
        ...(withRps ? [isDirect ? '' : f2(p.cpuMs)] : []),
      ];
    };
    return [[label], row('direct', dir), ...(floor ? [row('bare floor', floor)] : []), row('gateway', gwy)];
  };
  const ADDED = ['added vs direct p50', 'p99', ...(withFloor ? ['added vs floor p50', 'p99'] : [])];

  const throughput: string[][] = [];
  for (const [label, a, f, b] of [
    ['chat, JSON', by('c50 direct'), by('c50 floor'), by('c50 gateway')],
    ['chat, stream', by('c50 direct stream'), by('c50 floor stream'), by('c50 gateway stream')],
  ] as const) {
    if (a && b) throughput.push(...section(label, point(a), f && point(f), point(b), true));
  }
  if (throughput.length) {
    out.push('');
    out.push(
      `1. Throughput, closed loop at ${c} connections (proxy CPU: ms per request of the process in front of the upstream)`,
    );
    const ratios = ['x direct', ...(withFloor ? ['x floor'] : [])];
    out.push(table(['', 'req/s', 'p50 ms', 'p99 ms', ...ratios, ...ADDED, 'proxy CPU ms/req'], throughput));
  }

  const rd = by('rate direct');
  const rf = by('rate floor');
  const rg = by('rate gateway');
  if (rd && rg) {
    const a50 = rg.run.latency.p50 - rd.run.latency.p50;
    const a99 = rg.run.latency.p99 - rd.run.latency.p99;
    out.push('');
    const how =
      rg.run.shards > 1
        ? `${rg.run.shards} autocannon instances started ${(1000 / rg.run.shards).toFixed(0)} ms apart, overallRate ${args.rate / rg.run.shards} each: an even arrival rate`
        : 'one autocannon instance: every connection sends its per-second quota at the start of each second (bursts)';
    out.push(
      `2. Fixed rate ${args.rate} req/s over ${args.rateConnections} connections (${how}); chat, JSON, priced model, auth on`,
    );
    const row = (label: string, r: Measured) => [
      label,
      f0(r.run.rps),
      f2(r.run.latency.p50),
      f2(r.run.latency.p90),
      f2(r.run.latency.p99),
      f2(r.run.latency.max),
      f2(proxyCpu(r)),
      f0(100 * (r.target === 'direct' ? NaN : (r.cpu.cores[r.target] ?? NaN))),
      f0(r.cpu.machineBusyPct),
    ];
    const added = (label: string, a: Measured, b: Measured) => [
      label,
      '',
      signed(b.run.latency.p50 - a.run.latency.p50),
      signed(b.run.latency.p90 - a.run.latency.p90),
      signed(b.run.latency.p99 - a.run.latency.p99),
      '',
      '',
      '',
      '',
    ];
    const rows = [row('direct', rd)];
    if (rf) rows.push(row('bare floor', rf));
    rows.push(row('gateway', rg));
    if (by('rate gateway free')) rows.push(row('gateway, free model', by('rate gateway free')!));
    if (by('rate gateway tpm cap')) rows.push(row('gateway, key with a tpm cap', by('rate gateway tpm cap')!));
    if (rf) rows.push(added('added (floor - direct)', rd, rf));
    rows.push(added('added (gateway - direct)', rd, rg));
    if (rf) rows.push(added('added (gateway - floor)', rf, rg));
    out.push(
      table(
        [
          '',
          'achieved req/s',
          'p50 ms',
          'p90 ms',
          'p99 ms',
          'max ms',
          'proxy CPU ms/req',
          'proxy CPU %',
          'machine CPU %',
        ],
        rows,
      ),
    );
    const ok = (x: number, lim: number) => (x <= lim ? 'PASS' : 'FAIL');
    out.push(
      `target "adds at most 2 ms at p50 and 10 ms at p99 at ${args.rate} req/s": p50 ${signed(a50)} ms ${ok(a50, 2)}, p99 ${signed(a99)} ms ${ok(a99, 10)}`,
    );
    if (rateRounds.length > 1) {
      out.push(
        `gateway - direct in each of ${rateRounds.length} rounds (p50 / p99): ${rateRounds.map((a) => `${signed(a.p50)} / ${signed(a.p99)}`).join(', ')} ms; the rows above are the median round's (by p50); the free model and the tpm-cap key ran once, after the rounds`,
      );
    }
    if (rf) {
      out.push(
        `over the bare floor (gateway - floor, for reading; the target above is judged on gateway - direct): p50 ${signed(rg.run.latency.p50 - rf.run.latency.p50)} ms, p99 ${signed(rg.run.latency.p99 - rf.run.latency.p99)} ms; ` +
          `the floor itself adds p50 ${signed(rf.run.latency.p50 - rd.run.latency.p50)} ms, p99 ${signed(rf.run.latency.p99 - rd.run.latency.p99)} ms`,
      );
    }
    for (const [label, r] of [
      ['bare floor', rf],
      ['gateway', rg],
      ['gateway, free model', by('rate gateway free')],
    ] as const) {
      if (r && r.run.rps < 0.95 * args.rate) {
        out.push(
          `  note: ${label} reached only ${f0(r.run.rps)} of ${args.rate} req/s: it is saturated at this rate on this machine, so its latency is mostly queueing`,
        );
      }
    }
  }

  const c1d = by('c1 direct');
  const c1f = by('c1 floor');
  const c1g = by('c1 gateway');
  const one: string[][] = [];
  if (c1d && c1g) {
    const n = [c1d, c1f, c1g].flatMap((r) => (r ? [r.run.ok] : [])).join('/');
    one.push(
      ...section(
        `chat, JSON: response time (autocannon c=1, n=${n})`,
        point(c1d),
        c1f && point(c1f),
        point(c1g),
        false,
      ),
    );
  }
  if (ttfb) {
    const t = ttfb;
    const p = (r: TtfbRun, k: 'headers' | 'firstByte' | 'total'): Point => ({ p50: r[k].p50, p99: r[k].p99 });
    const n = [t.direct, t.floor, t.gateway].flatMap((r) => (r ? [r.n] : [])).join('/');
    for (const [label, k] of [
      ['stream: time to response headers', 'headers'],
      ['stream: time to first body byte', 'firstByte'],
      ['stream: time to end of stream', 'total'],
    ] as const) {
      one.push(
        ...section(
          `${label} (undici, n=${n})`,
          p(t.direct, k),
          t.floor ? p(t.floor, k) : undefined,
          p(t.gateway, k),
          false,
        ),
      );
    }
  }
  if (one.length) {
    out.push('');
    out.push('3. One request at a time (concurrency 1)');
    out.push(table(['', 'p50 ms', 'p99 ms', ...ADDED], one));
  }

  if (args.billing) {
    const pairs: Array<[string, Measured | undefined, Measured | undefined]> = [
      [`c=${c} (saturated)`, by('c50 gateway'), by('c50 gateway free')],
      [`${args.rate} req/s`, by('rate gateway'), by('rate gateway free')],
      ['c=1', by('c1 gateway'), by('c1 gateway free')],
    ];
    const rows = pairs
      .filter(([, a, b]) => a && b)
      .map(([label, p, fr]) => [
        label,
        f0(p!.run.rps),
        f2(p!.run.latency.p50),
        f2(p!.run.latency.p99),
        f2(p!.cpu.msPerRequest.gateway),
        f2(p!.cpu.msPerRequest.postgres),
        f0(fr!.run.rps),
        f2(fr!.run.latency.p50),
        f2(fr!.run.latency.p99),
        f2(fr!.cpu.msPerRequest.gateway),
        f2(fr!.cpu.msPerRequest.postgres),
        signed(p!.run.latency.p50 - fr!.run.latency.p50),
        signed(p!.cpu.msPerRequest.gateway - fr!.cpu.msPerRequest.gateway),
      ]);
    if (rows.length) {
      out.push('');
      out.push(
        `4. Billing on vs off: gateway, chat JSON, gpt-4o-mini (priced: hold + settlement + usage row) vs ${freeModel} (no price: no hold, no ledger)`,
      );
      out.push(
        table(
          [
            '',
            'priced req/s',
            'p50 ms',
            'p99 ms',
            'gw CPU ms/req',
            'pg CPU ms/req',
            'free req/s',
            'p50 ms',
            'p99 ms',
            'gw CPU ms/req',
            'pg CPU ms/req',
            'billing p50',
            'billing gw CPU',
          ],
          rows,
        ),
      );
    }
  }

  if (runs.length) {
    out.push('');
    out.push(
      '5. CPU per completed request (ms) by process, every run; postgres = backends of the bench database; redis is shared',
    );
    out.push(
      '   "other cores": CPU used meanwhile by processes outside the bench (other work on the machine skews every number above)',
    );
    out.push(
      table(
        [
          'run',
          'req/s',
          'gateway',
          ...(withFloor ? ['bare floor'] : []),
          'upstream',
          'postgres',
          'redis',
          'bench (load gen)',
          'gw cores',
          'machine %',
          'other cores',
          'errors',
        ],
        runs.map((r) => [
          r.name,
          f0(r.run.rps),
          f2(r.cpu.msPerRequest.gateway),
          ...(withFloor ? [f2(r.cpu.msPerRequest.floor)] : []),
          f2(r.cpu.msPerRequest.upstream),
          f2(r.cpu.msPerRequest.postgres),
          f2(r.cpu.msPerRequest.redis),
          f2(r.cpu.msPerRequest.bench),
          f2(r.cpu.cores.gateway),
          f0(r.cpu.machineBusyPct),
          f2(r.cpu.cores.other),
          String(r.run.non2xx + r.run.errors + r.run.timeouts),
        ]),
      ),
    );
  }
  if (rec) {
    const usage = rec.usage
      .map(
        (u) =>
          `${u.model}${u.stream ? ' (stream)' : ''}: ${u.rows} rows, cost ${(Number(u.cost_nanos) / 1e9).toFixed(6)}, ${u.errors} errors`,
      )
      .join('; ');
    out.push('');
    out.push(
      `recorded by the gateway: ${usage}; ledger transactions ${rec.ledgerTransactions}; holds left open ${rec.holdsOutstanding}`,
    );
  }
  out.push(
    `gateway RSS after the runs: ${gatewayRssMb ?? '?'} MB; warnings/errors logged by the gateway: ${gateway.warnings.length}`,
  );
  for (const w of gateway.warnings.slice(0, 5)) out.push(`  ${w.slice(0, 300)}`);
  if (state.floor) {
    out.push(
      `bare floor RSS after the runs: ${floorRssMb ?? '?'} MB; errors logged by the bare floor: ${state.floor.warnings.length}`,
    );
    for (const w of state.floor.warnings.slice(0, 5)) out.push(`  ${w.slice(0, 300)}`);
  }
  out.push(`whole run: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.stdout.write(out.join('\n') + '\n');

  // ---- profile
  let profiles: Array<{ scenario: string; summary: Summary }> | undefined;
  if (profileDir) {
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    if (!files.length) log(`no .cpuprofile written in ${profileDir}`);
    else {
      const p = loadProfile(join(profileDir, files[0]));
      profiles = [];
      const cut: Array<[string, [number, number], number | undefined]> = runs
        .filter((r) => r.target === 'gateway')
        .map((r) => [r.name, r.windowUs, r.run.ok]);
      if (ttfb) cut.push(['ttfb gateway', ttfb.windowsUs.gateway, ttfb.gateway.n]);
      for (const [name, [from, to], requests] of cut) {
        const s = summarise(p, { fromUs: from, toUs: to, requests, top: 25 });
        profiles.push({ scenario: name, summary: s });
        process.stdout.write('\n' + formatSummary(s, `gateway CPU profile: ${name}`) + '\n');
      }
      process.stdout.write(
        `\nprofile: ${join(profileDir, files[0])} (open in Chrome DevTools or summarise with dist/tools/bench/cpuprofile-summary.js)\n`,
      );
    }
  }

  /** What `b` adds over `a` in every scenario, for the JSON results. */
  const compare = (a: TargetKind, b: TargetKind) => ({
    throughput: {
      json: pair(by(`c50 ${a}`), by(`c50 ${b}`)),
      stream: pair(by(`c50 ${a} stream`), by(`c50 ${b} stream`)),
    },
    fixedRate: pair(by(`rate ${a}`), by(`rate ${b}`)),
    concurrency1: pair(by(`c1 ${a}`), by(`c1 ${b}`)),
    ttfbAdded: ttfbPair(ttfb?.[a], ttfb?.[b]),
  });
  const results = {
    version: 2,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - t0) / 1000,
    machine,
    settings,
    runs,
    ttfb,
    derived: {
      ...compare('direct', 'gateway'),
      fixedRateRounds: rateRounds,
      billing: {
        c50: pair(by('c50 gateway free'), by('c50 gateway')),
        rate: pair(by('rate gateway free'), by('rate gateway')),
        c1: pair(by('c1 gateway free'), by('c1 gateway')),
      },
      // the bare passthrough proxy: what it adds over direct, and what the gateway adds over it
      floor: args.floor
        ? { overDirect: compare('direct', 'floor'), gatewayOverFloor: compare('floor', 'gateway') }
        : null,
    },
    recorded: rec,
    wallet: { before: walletBefore, after: walletAfter },
    gateway: { rssMbAfterRuns: gatewayRssMb, warnings: gateway.warnings.slice(0, 50) },
    floor: state.floor ? { rssMbAfterRuns: floorRssMb, errors: state.floor.warnings.slice(0, 50) } : null,
    profiles,
  };
  writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
  log(`raw numbers written to ${args.out}`);
}

/** The commit measured and the files that differ from it (the build compiles the working tree). */
function gitState(root: string): { head: string; dirty: string[] } | null {
  try {
    const head = execFileSync('git', ['log', '-1', '--format=%h %s'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'apps', 'libs', 'migrations', 'catalog', 'tools'],
      { cwd: root, encoding: 'utf8' },
    )
      .split('\n')
      .map((l) => l.slice(3).trim())
      .filter((f) => f && !f.startsWith('tools/bench/'));
    return { head, dirty };
  } catch {
    return null;
  }
}

/**
 * b relative to a: throughput ratio and added latency (b - a). addedGatewayCpuMsPerRequest: the gateway
 * process's CPU per request in b minus in a; addedProxyCpuMsPerRequest: the CPU of the process in front
 * of the upstream (bare floor or gateway; none direct) in b minus in a.
 */
function pair(a: Measured | undefined, b: Measured | undefined) {
  if (!a || !b) return null;
  const front = (r: Measured) => (r.target === 'direct' ? 0 : proxyCpu(r));
  return {
    rpsRatio: b.run.rps / a.run.rps,
    addedP50: b.run.latency.p50 - a.run.latency.p50,
    addedP90: b.run.latency.p90 - a.run.latency.p90,
    addedP99: b.run.latency.p99 - a.run.latency.p99,
    addedGatewayCpuMsPerRequest: b.cpu.msPerRequest.gateway - a.cpu.msPerRequest.gateway,
    addedProxyCpuMsPerRequest: front(b) - front(a),
  };
}

/** time to first byte of sequential streams: b - a */
function ttfbPair(a: TtfbRun | null | undefined, b: TtfbRun | null | undefined) {
  if (!a || !b) return null;
  return {
    firstByteP50: b.firstByte.p50 - a.firstByte.p50,
    firstByteP99: b.firstByte.p99 - a.firstByte.p99,
    headersP50: b.headers.p50 - a.headers.p50,
    totalP50: b.total.p50 - a.total.p50,
  };
}

main()
  .catch((e: unknown) => {
    if (!state.aborted) {
      process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
      if (state.gateway?.tail.length)
        process.stderr.write(`--- gateway output (last lines)\n${state.gateway.tail.slice(-20).join('\n')}\n`);
      process.exitCode = 1;
    }
  })
  .finally(async () => {
    if (state.aborted) return; // the signal handler cleans up and exits
    await cleanup();
    log(
      `cleaned up: processes stopped, database ${state.dbName ?? '-'} dropped, Redis keys ${state.redisPrefix ?? '-'}* deleted`,
    );
    process.exit(); // keep-alive sockets of fetch's global agent would hold the loop open for a while
  });

/** What the gateway added over direct in one round of the fixed rate. */
function roundAdded(round: Measured[]): { p50: number; p99: number } {
  const d = round.find((m) => m.target === 'direct')!.run.latency;
  const g = round.find((m) => m.target === 'gateway')!.run.latency;
  return { p50: g.p50 - d.p50, p99: g.p99 - d.p99 };
}
