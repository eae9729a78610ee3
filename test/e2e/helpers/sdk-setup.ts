// Shared by the SDK suites: a funded tenant whose key is not throttled by the default 60 rpm (these
// suites send well over 60 requests per file), the chat kinds to run every suite over, and a look at
// what the demo upstream last received (which proves the request went through the kind's adapter).
import { validateOpenAI } from '../../../tools/demo-upstream/openapi-validator';
import type { RecordedRequest } from '../../../tools/demo-upstream';
import { AdminClient, createTenant, Tenant } from './admin-client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, TestStack } from './test-stack';

export interface ChatKind {
  kind: 'openai' | 'anthropic' | 'gemini';
  model: string;
}

/** One catalog model per upstream kind (catalog/default.yaml). */
export const CHAT_KINDS: ChatKind[] = [
  { kind: 'openai', model: 'gpt-4o-mini' },
  { kind: 'anthropic', model: 'claude-sonnet-4-6' },
  { kind: 'gemini', model: 'gemini-3-flash' },
];

export async function sdkTenant(stack: TestStack, credit = '100.00'): Promise<Tenant> {
  const admin = await AdminClient.login(stack.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  return createTenant(admin, { credit, key: { rpm: 100000 } });
}

/** The last request the demo upstream received (control routes are not recorded). */
export function lastUpstream(stack: TestStack): RecordedRequest & { body: any } {
  const r = stack.upstream.requests.at(-1);
  if (!r) throw new Error('the demo upstream received nothing');
  return r as RecordedRequest & { body: any };
}

/** Plain JSON of a value the SDK handed back (drops SDK-only non-enumerable extras). */
export function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The errors of `value` against an OpenAI component schema; `[]` when valid. */
export function specErrors(schema: string, value: unknown): string[] {
  return validateOpenAI(schema, plain(value));
}

/** A decimal string in currency units ("0.000009450") as an integer of 10^-9 units. */
export function nanos(amount: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(amount);
  if (!m) throw new Error(`not a decimal amount: ${JSON.stringify(amount)}`);
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** List prices of catalog/default.yaml in 10^-9 currency units per token (USD per Mtok x 1000). */
export const PRICE_NANOS_PER_TOKEN: Record<string, { input: bigint; output: bigint }> = {
  'gpt-4o-mini': { input: 150n, output: 600n },
  'claude-sonnet-4-6': { input: 3000n, output: 15000n },
  'gemini-3-flash': { input: 500n, output: 3000n },
  'text-embedding-3-small': { input: 20n, output: 0n },
};
