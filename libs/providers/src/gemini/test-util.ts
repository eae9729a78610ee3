// Shared by the Gemini adapter's unit tests: wire-sample fixtures, a deterministic context, the OpenAPI check.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import type { AdapterContext, ChatCompletionChunk, RouteTarget, SseEvent } from '../types';
import { chatStreamMapper } from './chat.stream';

const ROOT = join(__dirname, '../../../..');
const FIXTURES = join(ROOT, 'test/fixtures/gemini');

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
}

/** Parses a recorded .sse file the way the transport does (eventsource-parser). */
export function sseEvents(name: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data, id: e.id }) });
  parser.feed(readFileSync(join(FIXTURES, name), 'utf8'));
  return events;
}

export const NOW_MS = 1_750_000_000_987;

export function testContext(): AdapterContext {
  let n = 0;
  return { now: () => NOW_MS, newId: (prefix) => `${prefix}-${++n}` };
}

export function streamFixture(name: string, model = 'gemini-flash'): ChatCompletionChunk[] {
  const mapper = chatStreamMapper(testContext(), { model });
  const chunks = sseEvents(name).flatMap((e) => mapper.push(e));
  return [...chunks, ...mapper.end()];
}

export function target(overrides: Partial<RouteTarget> = {}): RouteTarget {
  return {
    providerId: 'google',
    kind: 'gemini',
    baseUrl: 'https://generativelanguage.googleapis.com',
    apiKey: 'test-gemini-key',
    upstreamModel: 'gemini-2.5-flash',
    timeoutMs: 60_000,
    ...overrides,
  };
}

type Validate = (schemaName: string, value: unknown) => string[];
const VALIDATOR = join(ROOT, 'tools/demo-upstream/openapi-validator.ts');

/** The colleague-owned OpenAPI validator, when it exists; tests that need it are skipped otherwise. */
export const validateOpenAI: Validate | undefined = existsSync(VALIDATOR)
  ? jest.requireActual<{ validateOpenAI: Validate }>(VALIDATOR).validateOpenAI
  : undefined;
