// The benchmark's child processes (demo upstream, bare floor, gateway) and what they cost: start, wait until they
// answer, stop (SIGTERM, then SIGKILL), and CPU time read from /proc (Linux; elsewhere CPU columns are empty).
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';

const cpuCount = cpus().length || 1;

export interface Child {
  name: string;
  proc: ChildProcess;
  /** the last lines it wrote (stdout and stderr), for error reports */
  tail: string[];
  /** lines at pino level warn or above, or any stderr line */
  warnings: string[];
  exited: Promise<number | null>;
  isRunning(): boolean;
}

const TAIL = 200;

export function startChild(name: string, args: string[], env: NodeJS.ProcessEnv, guardPath: string): Child {
  const proc = spawn(process.execPath, ['-r', guardPath, ...args], {
    env: { ...env, SY_BENCH_GUARD: '1' },
    // own process group: Ctrl-C reaches the bench only, which then stops the children in order
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const tail: string[] = [];
  const warnings: string[] = [];
  let running = true;
  const onLines = (stream: 'out' | 'err') => {
    let buf = '';
    return (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > TAIL) tail.shift();
        if (stream === 'err' || isWarning(line)) {
          warnings.push(line);
          if (warnings.length > TAIL) warnings.shift();
        }
      }
    };
  };
  proc.stdout!.on('data', onLines('out'));
  proc.stderr!.on('data', onLines('err'));
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? (signal ? -1 : null));
    });
    proc.once('error', (e) => {
      running = false;
      tail.push(`spawn error: ${e.message}`);
      resolve(-1);
    });
  });
  return { name, proc, tail, warnings, exited, isRunning: () => running };
}

function isWarning(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number'
      ? level >= 40
      : typeof level === 'string' && ['warn', 'error', 'fatal'].includes(level);
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceMs for a graceful exit, then SIGKILL the whole process group. */
export async function stopChild(c: Child, graceMs: number): Promise<void> {
  if (!c.isRunning()) return;
  const pid = c.proc.pid!;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([c.exited, t])) === 'timeout') {
    try {
      process.kill(-pid, 'SIGKILL'); // the group: node:cluster workers too
    } catch {
      // gone meanwhile
    }
    await c.exited;
  }
  // cluster workers that outlived their primary
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // no such group: nothing left
  }
}

/** Polls `url` until it answers 2xx; fails early when the child exits. */
export async function waitReady(c: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!c.isRunning()) throw new Error(`${c.name} exited during start-up:\n${c.tail.slice(-30).join('\n')}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) {
        await r.arrayBuffer();
        return;
      }
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${c.name} did not become ready at ${url} within ${timeoutMs} ms (${last}):\n${c.tail.slice(-30).join('\n')}`,
  );
}

/** Waits for a line on the child's stdout matching `re`; returns the match. */
export function waitForLine(c: Child, re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const found = () => {
      for (const l of c.tail) {
        const m = re.exec(l);
        if (m) return m;
      }
      return null;
    };
    const timer = setInterval(() => {
      const m = found();
      if (m) {
        clearInterval(timer);
        resolve(m);
      } else if (!c.isRunning() || Date.now() > deadline) {
        clearInterval(timer);
        reject(
          new Error(
            `${c.name} did not print ${re} (${c.isRunning() ? 'timeout' : 'exited'}):\n${c.tail.slice(-30).join('\n')}`,
          ),
        );
      }
    }, 50);
    const deadline = Date.now() + timeoutMs;
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------- CPU accounting (/proc)

const HAS_PROC = existsSync('/proc/stat');
let clkTck = 100;
if (HAS_PROC) {
  try {
    clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clkTck = 100;
  }
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  /** user + system CPU, ms */
  cpuMs: number;
  /** the command line (a Postgres backend shows its database there); read on demand */
  cmdline(): string;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' '); // f[0] is field 3 (state)
    let cmd: string | undefined;
    const cmdline = () => {
      if (cmd === undefined) {
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        } catch {
          cmd = '';
        }
      }
      return cmd;
    };
    return { pid, ppid: Number(f[1]), comm, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / clkTck, cmdline };
  } catch {
    return null;
  }
}

function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = readProc(Number(d));
    if (p) out.push(p);
  }
  return out;
}

/** the busy and total jiffies of the whole machine */
function machineJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3] + (v[4] ?? 0);
  return { busy: total - idle, total };
}

export interface CpuSnapshot {
  at: number;
  byGroup: Record<string, number>;
  perPid: Map<number, number>;
  machine: { busy: number; total: number } | null;
}

export type CpuGroups = Record<string, number[] | ((p: ProcInfo) => boolean)>;

/**
 * CPU time per group of processes. A group is a list of root pids (their descendants included) or a
 * predicate on the process (e.g. every `postgres` process). `self` is this process.
 */
export class CpuMeter {
  constructor(private readonly groups: () => CpuGroups) {}

  snapshot(): CpuSnapshot {
    const at = performance.now();
    const perPid = new Map<number, number>();
    const byGroup: Record<string, number> = {};
    const selfUsage = process.cpuUsage();
    byGroup.bench = (selfUsage.user + selfUsage.system) / 1000;
    if (!HAS_PROC) return { at, byGroup, perPid, machine: null };
    const procs = allProcs();
    const children = new Map<number, ProcInfo[]>();
    for (const p of procs) {
      perPid.set(p.pid, p.cpuMs);
      const list = children.get(p.ppid) ?? [];
      list.push(p);
      children.set(p.ppid, list);
    }
    for (const [name, sel] of Object.entries(this.groups())) {
      let sum = 0;
      if (typeof sel === 'function') {
        for (const p of procs) if (sel(p)) sum += p.cpuMs;
      } else {
        const seen = new Set<number>();
        const stack = [...sel];
        while (stack.length) {
          const pid = stack.pop()!;
          if (seen.has(pid)) continue;
          seen.add(pid);
          sum += perPid.get(pid) ?? 0;
          for (const c of children.get(pid) ?? []) stack.push(c.pid);
        }
      }
      byGroup[name] = sum;
    }
    return { at, byGroup, perPid, machine: machineJiffies() };
  }

  /**
   * CPU ms per group between two snapshots, the machine's busy share (0..1 of all cores), and `other`:
   * CPU ms of everything outside the groups (other work on the machine: it skews the numbers).
   */
  static diff(
    a: CpuSnapshot,
    b: CpuSnapshot,
  ): { wallMs: number; ms: Record<string, number>; machineBusy: number | null } {
    const ms: Record<string, number> = {};
    for (const k of Object.keys(b.byGroup)) ms[k] = Math.max(0, b.byGroup[k] - (a.byGroup[k] ?? 0));
    let machineBusy: number | null = null;
    if (a.machine && b.machine) {
      const total = Math.max(1, b.machine.total - a.machine.total);
      machineBusy = (b.machine.busy - a.machine.busy) / total;
      // jiffies of all cores -> ms of CPU over the wall time
      const busyMs = machineBusy * (b.at - a.at) * cpuCount;
      ms.other = Math.max(0, busyMs - Object.values(ms).reduce((x, y) => x + y, 0));
    }
    return { wallMs: b.at - a.at, ms, machineBusy };
  }

  /** Share of the machine (0..1) used by processes outside the groups over `ms` milliseconds. */
  async otherLoad(ms: number): Promise<number | null> {
    const a = this.snapshot();
    await new Promise((r) => setTimeout(r, ms));
    const d = CpuMeter.diff(a, this.snapshot());
    return d.ms.other === undefined ? null : d.ms.other / (d.wallMs * cpuCount);
  }
}

export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

export function repoRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = join(dir, '..');
    if (up === dir) throw new Error('package.json not found above ' + from);
    dir = up;
  }
  return dir;
}
