// Cursor pagination for admin and /v1 lists: an opaque cursor of (created_at, id) so pages are stable
// while rows are added.
import { GatewayError } from '@switchyard/core';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface CursorPosition {
  at: string; // ISO timestamp, microsecond precision kept as text
  id: string;
}

export function encodeCursor(pos: CursorPosition): string {
  return Buffer.from(JSON.stringify([pos.at, pos.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined | null): CursorPosition | null {
  if (!cursor) return null;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) return { at, id };
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
