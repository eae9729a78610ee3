// The route table entry each provider file exports, and small readers for untrusted JSON bodies.
import type { IncomingMessage } from 'node:http';
import type { Dialect, Exchange } from './exchange';

export interface Route {
  method: 'GET' | 'POST';
  /** matched against the path after any `/_k/.../` prefix; capture groups become `params` */
  pattern: RegExp;
  dialect: Dialect;
  /** extra test when two providers share a path (GET /v1/models) */
  accepts?(req: IncomingMessage): boolean;
  handle(ex: Exchange, params: string[]): Promise<void>;
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

export function hasBearer(req: IncomingMessage): boolean {
  return /^Bearer\s+\S+/i.test(header(req, 'authorization'));
}

/** `stop` / `stop_sequences` / `stopSequences`: a string or a list of strings. */
export function stopList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return asArray(v).filter((s): s is string => typeof s === 'string');
}

export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** Unix seconds, as `created` fields carry them. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
