// Cursor pagination for admin and /v1 lists: an opaque cursor of (created_at, id) so pages are stable
// while rows are added.
import { GatewayError } from '@switchyard/core';
import { isUuid } from './ids';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface CursorPosition {
  at: string; // ISO timestamp, microsecond precision kept as text
  id: string;
}

// what this API puts in cursors: toISOString() (ms) or Postgres' microseconds, always UTC
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

function isCursorTime(at: unknown): at is string {
  if (typeof at !== 'string' || !CURSOR_TIME.test(at) || at < '0001') return false;
  const t = new Date(at);
  // Date rolls 2024-02-30 over to March 1st where Postgres refuses it: the text must survive a round trip
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 19) === at.slice(0, 19);
}

export function encodeCursor(pos: CursorPosition): string {
  return Buffer.from(JSON.stringify([pos.at, pos.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined | null): CursorPosition | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    // both fields go into SQL casts (::timestamptz, ::uuid) that would fail with a 500: check them here
    if (isCursorTime(at) && isUuid(id)) return { at, id };
  } catch {
    // fall through
  }
  throw new GatewayError('bad_request', 'cursor is not a cursor returned by this API', 'cursor');
}

export function parseLimit(limit: unknown, def = 20, max = 100): number {
  if (limit === undefined || limit === null || limit === '') return def;
  const n = Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new GatewayError('bad_request', `limit must be an integer from 1 to ${max}`, 'limit');
  }
  return n;
}
