// Record ids are UUIDs. A malformed one never reaches Postgres (which would fail the cast with a 500):
// in a path it is simply not found (404); in a query or a cursor it is the client's mistake (400).
import { GatewayError } from '@switchyard/core';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: unknown): id is string {
  return typeof id === 'string' && UUID.test(id);
}

export function notFound(what: string): GatewayError {
  return new GatewayError('not_found', `No such ${what}.`);
}

/** An id from a query string or a body filter: absent is fine, anything but a uuid is 400 with `param`. */
export function optionalQueryId(value: unknown, param: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (!isUuid(value)) throw new GatewayError('bad_request', `${param} must be an id (a UUID)`, param);
  return value;
}
