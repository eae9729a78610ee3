// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package, and inclusive
// time of the frames that matter, optionally for a time window only (V8's profile clock is
// CLOCK_MONOTONIC in microseconds, the same clock as process.hrtime in any process on the machine, so
// the bench can cut one scenario out of a whole-run profile).
//
//   node dist/tools/bench/cpuprofile-summary.js FILE.cpuprofile [--top 30] [--from-us N --to-us N] [--requests N]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  where: string;
  category: string;
  ms: number;
  pct: number;
}

export interface Summary {
  windowMs: number;
  sampledMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  programMs: number;
  topSelf: Row[];
  byCategory: Array<{ category: string; ms: number; pct: number }>;
  topInclusive: Row[];
  requests?: number;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export function category(f: CallFrame): string {
  const url = f.url;
  if (!url) return SPECIAL.has(f.functionName) ? f.functionName : '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?(?:deps\/)?([a-z_]+)/.exec(url);
    return `node:${m ? m[1] : url.slice(5)}`;
  }
  const sy = /\/dist\/(libs|apps|tools)\/([^/]+)/.exec(url);
  if (sy) return `switchyard ${sy[1]}/${sy[2]}`;
  return url.replace(/^file:\/\//, '');
}

function where(f: CallFrame): string {
  if (!f.url) return '';
  let u = f.url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) u = u.slice(nm + '/node_modules/'.length);
  else {
    const d = u.indexOf('/dist/');
    if (d >= 0) u = u.slice(d + 1);
  }
  return `${u}:${f.lineNumber + 1}`;
}

export function summarise(
  p: CpuProfile,
  o: { fromUs?: number; toUs?: number; top?: number; requests?: number } = {},
): Summary {
  const top = o.top ?? 30;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (f: CallFrame) =>
    `${f.functionName || '(anonymous)'}\u0000${f.url}\u0000${f.lineNumber}\u0000${f.columnNumber}`;

  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  const stackKeys = new Map<number, string[]>(); // node id -> unique frame keys on its stack (memo)
  const stackOf = (id: number): string[] => {
    let s = stackKeys.get(id);
    if (s) return s;
    const keys = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!SPECIAL.has(f.functionName)) keys.add(keyOf(f));
    }
    s = [...keys];
    stackKeys.set(id, s);
    return s;
  };

  let t = p.startTime;
  let sampled = 0;
  let idle = 0;
  let gc = 0;
  let program = 0;
  const from = o.fromUs ?? -Infinity;
  const to = o.toUs ?? Infinity;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000; // ms until the next sample
    const node = byId.get(p.samples[i]);
    if (!node) continue;
    sampled += dt;
    const f = node.callFrame;
    if (f.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    if (f.functionName === '(garbage collector)') gc += dt;
    if (f.functionName === '(program)') program += dt;
    const k = keyOf(f);
    frames.set(k, f);
    self.set(k, (self.get(k) ?? 0) + dt);
    for (const sk of stackOf(node.id)) {
      if (!frames.has(sk)) {
        const [functionName, url, line, col] = sk.split('\u0000');
        frames.set(sk, { functionName, url, lineNumber: Number(line), columnNumber: Number(col) });
      }
      incl.set(sk, (incl.get(sk) ?? 0) + dt);
    }
  }
  const busy = sampled - idle;
  const row = (k: string, ms: number): Row => {
    const f = frames.get(k)!;
    return {
      name: f.functionName || '(anonymous)',
      where: where(f),
      category: category(f),
      ms,
      pct: busy ? (100 * ms) / busy : 0,
    };
  };
  const cats = new Map<string, number>();
  for (const [k, ms] of self) {
    const c = category(frames.get(k)!);
    cats.set(c, (cats.get(c) ?? 0) + ms);
  }
  const windowMs = (Math.min(to, p.endTime) - Math.max(from, p.startTime)) / 1000;
  return {
    windowMs,
    sampledMs: sampled,
    busyMs: busy,
    idleMs: idle,
    gcMs: gc,
    programMs: program,
    topSelf: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => row(k, ms)),
    byCategory: [...cats.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, ms]) => ({ category, ms, pct: busy ? (100 * ms) / busy : 0 })),
    topInclusive: [...incl.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top * 2)
      .map(([k, ms]) => row(k, ms)),
    requests: o.requests,
  };
}

export function formatSummary(s: Summary, title: string): string {
  const per = (ms: number) => (s.requests ? `  ${((ms * 1000) / s.requests).toFixed(1).padStart(7)} µs/req` : '');
  const lines: string[] = [];
  lines.push(`== ${title}`);
  lines.push(
    `window ${s.windowMs.toFixed(0)} ms; on CPU ${s.busyMs.toFixed(0)} ms (${((100 * s.busyMs) / Math.max(1, s.sampledMs)).toFixed(0)} % of the window), ` +
      `GC ${s.gcMs.toFixed(0)} ms, (program) ${s.programMs.toFixed(0)} ms` +
      (s.requests ? `; ${s.requests} requests, ${((s.busyMs * 1000) / s.requests).toFixed(0)} µs CPU per request` : ''),
  );
  lines.push('-- self time by package / area (% of on-CPU time)');
  for (const c of s.byCategory.slice(0, 25))
    lines.push(`${c.pct.toFixed(1).padStart(6)} %  ${c.ms.toFixed(0).padStart(7)} ms${per(c.ms)}  ${c.category}`);
  lines.push('-- top functions by self time');
  for (const r of s.topSelf)
    lines.push(
      `${r.pct.toFixed(1).padStart(6)} %  ${r.ms.toFixed(0).padStart(7)} ms${per(r.ms)}  ${r.name}  [${r.category}] ${r.where}`,
    );
  lines.push('-- top frames by inclusive time (self + callees)');
  for (const r of s.topInclusive)
    lines.push(
      `${r.pct.toFixed(1).padStart(6)} %  ${r.ms.toFixed(0).padStart(7)} ms${per(r.ms)}  ${r.name}  [${r.category}] ${r.where}`,
    );
  return lines.join('\n');
}

export function loadProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (n: string) => {
    const i = argv.indexOf(`--${n}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const file = argv.find((a) => a.endsWith('.cpuprofile'));
  if (!file) {
    process.stderr.write(
      'usage: node dist/tools/bench/cpuprofile-summary.js FILE.cpuprofile [--top N] [--from-us N] [--to-us N] [--requests N]\n',
    );
    process.exit(2);
  }
  const s = summarise(loadProfile(file), {
    top: opt('top') ? Number(opt('top')) : undefined,
    fromUs: opt('from-us') ? Number(opt('from-us')) : undefined,
    toUs: opt('to-us') ? Number(opt('to-us')) : undefined,
    requests: opt('requests') ? Number(opt('requests')) : undefined,
  });
  process.stdout.write(formatSummary(s, file) + '\n');
}
