// Load generation: autocannon (closed loop at N connections, or autocannon's fixed overall rate) with
// every response time kept at full precision (autocannon's own histogram rounds to whole
// milliseconds, and with a rate it back-fills "coordinated omission" samples at a 1 ms interval, which
// would swamp the percentiles), and sequential streaming requests with undici for time to first byte.
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface Target {
  /** http://127.0.0.1:PORT */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface LatencyStats {
  n: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadRun {
  /** completed 2xx responses per second of the measured window (summed over shards) */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  latency: LatencyStats;
  /** autocannon's own numbers, for comparison (whole milliseconds) */
  autocannon: { p50: number; p99: number; rpsAverage: number };
  statusCodes: Record<string, number>;
  /** autocannon instances the load was split into */
  shards: number;
}

export interface LoadOptions {
  connections: number;
  durationS: number;
  overallRate?: number;
  /**
   * With overallRate: split the load into this many autocannon instances started 1 s / shards apart.
   * autocannon gives each connection a per-second quota on a timer that is aligned across the
   * connections of an instance, so one instance with 50 connections sends a whole second's requests in
   * its first ~250 ms and then idles; staggered instances interleave into an even arrival rate.
   */
  shards?: number;
}

const current = new Set<autocannon.Instance>();
let stopped = false;

/** Stops the running load (Ctrl-C). */
export function stopLoad(): void {
  stopped = true;
  for (const i of current) i.stop();
}

/** n split into `parts` integers that differ by at most one */
const share = (n: number, i: number, parts: number) => Math.floor(n / parts) + (i < n % parts ? 1 : 0);

export async function runLoad(t: Target, o: LoadOptions): Promise<LoadRun> {
  const shards = o.overallRate ? Math.max(1, Math.min(o.shards ?? 1, o.connections, o.overallRate)) : 1;
  const parts = await Promise.all(
    Array.from({ length: shards }, async (_, i) => {
      if (i) await new Promise((r) => setTimeout(r, (i * 1000) / shards));
      if (stopped) return null;
      return runOne(t, {
        connections: share(o.connections, i, shards),
        durationS: o.durationS,
        overallRate: o.overallRate ? share(o.overallRate, i, shards) : undefined,
      });
    }),
  );
  const done = parts.filter((p): p is OneRun => p !== null);
  if (!done.length) throw new Error('aborted');
  const samples = done.flatMap((p) => p.samples);
  const statusCodes: Record<string, number> = {};
  for (const p of done) for (const [k, v] of Object.entries(p.statusCodes)) statusCodes[k] = (statusCodes[k] ?? 0) + v;
  const sum = (f: (p: OneRun) => number) => done.reduce((a, p) => a + f(p), 0);
  return {
    rps: sum((p) => p.inWindow / p.seconds),
    ok: sum((p) => p.ok),
    non2xx: sum((p) => p.result.non2xx),
    errors: sum((p) => p.result.errors),
    timeouts: sum((p) => p.result.timeouts),
    seconds: Math.max(...done.map((p) => p.seconds)),
    latency: stats(samples),
    autocannon: {
      // one instance's own (whole-millisecond) view, for comparison
      p50: done[0].result.latency.p50,
      p99: done[0].result.latency.p99,
      rpsAverage: sum((p) => p.result.requests.average),
    },
    statusCodes,
    shards,
  };
}

interface OneRun {
  samples: number[];
  ok: number;
  inWindow: number;
  seconds: number;
  result: autocannon.Result;
  statusCodes: Record<string, number>;
}

async function runOne(t: Target, o: { connections: number; durationS: number; overallRate?: number }): Promise<OneRun> {
  const samples: number[] = [];
  let ok = 0;
  const inst = autocannon({
    url: t.origin + t.path,
    method: 'POST',
    headers: t.headers,
    body: t.body,
    connections: o.connections,
    pipelining: 1,
    duration: o.durationS,
    timeout: 30,
    sampleInt: 250, // stop within 250 ms of the duration, not up to a second later
    ...(o.overallRate ? { overallRate: o.overallRate, ignoreCoordinatedOmission: true } : {}),
  });
  current.add(inst);
  const started = performance.now();
  // throughput: responses to requests sent within the nominal duration, per second of it (autocannon
  // runs on until its next sample tick; with a rate, a new second's quota may start in that overrun)
  const horizon = started + o.durationS * 1000;
  let inWindow = 0;
  inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) {
      ok++;
      samples.push(ms);
      if (performance.now() - ms < horizon) inWindow++;
    }
  });
  let result: autocannon.Result;
  try {
    result = await inst;
  } finally {
    current.delete(inst);
  }
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = v.count;
  return { samples, ok, inWindow, seconds: o.durationS, result, statusCodes };
}

export interface TtfbRun {
  n: number;
  /** request sent -> response headers */
  headers: LatencyStats;
  /** request sent -> first body chunk */
  firstByte: LatencyStats;
  /** request sent -> end of the stream */
  total: LatencyStats;
}

let stopTtfb = false;
export function stopSequential(): void {
  stopTtfb = true;
}

/** `n` requests one after another on one keep-alive connection (after `warm` unmeasured ones). */
export async function runSequentialStream(t: Target, n: number, warm: number): Promise<TtfbRun> {
  const pool = new Pool(t.origin, { connections: 1, pipelining: 1 });
  const h: number[] = [];
  const f: number[] = [];
  const e: number[] = [];
  try {
    for (let i = 0; i < warm + n && !stopTtfb; i++) {
      const t0 = performance.now();
      const res = await pool.request({ path: t.path, method: 'POST', headers: t.headers, body: t.body });
      const th = performance.now();
      let tf = -1;
      for await (const _chunk of res.body) {
        if (tf < 0) tf = performance.now();
      }
      const te = performance.now();
      if (res.statusCode !== 200) throw new Error(`${t.origin}${t.path}: HTTP ${res.statusCode}`);
      if (i >= warm) {
        h.push(th - t0);
        f.push(tf - t0);
        e.push(te - t0);
      }
    }
  } finally {
    await pool.close();
  }
  return { n: f.length, headers: stats(h), firstByte: stats(f), total: stats(e) };
}

export function stats(xs: number[]): LatencyStats {
  const n = xs.length;
  if (!n) return { n: 0, mean: NaN, min: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  const s = Float64Array.from(xs).sort();
  const at = (p: number) => s[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))];
  let sum = 0;
  for (const x of s) sum += x;
  return { n, mean: sum / n, min: s[0], p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: s[n - 1] };
}
