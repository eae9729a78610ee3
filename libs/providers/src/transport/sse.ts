// Upstream SSE bodies as events (eventsource-parser does the parsing), and our own SSE writing.
import { createParser } from 'eventsource-parser';
import type { SseEvent } from '../types';
import type { UpstreamBody } from './upstream-transport';

/**
 * The upstream's events, in batches: every event completed by one chunk of the body together, so that
 * what arrived at once goes to the client as one chunk of the response, not one per event.
 */
export async function* sseEventBatches(body: UpstreamBody): AsyncGenerator<SseEvent[]> {
  let batch: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => batch.push({ event: e.event, data: e.data, id: e.id }) });
  const decoder = new TextDecoder();
  const take = () => {
    const out = batch;
    batch = [];
    return out;
  };
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
    if (batch.length) yield take();
  }
  parser.feed(decoder.decode());
  parser.reset({ consume: true }); // a last event without its blank line still counts
  if (batch.length) yield take();
}

/** The upstream's events one by one. */
export async function* sseEvents(body: UpstreamBody): AsyncGenerator<SseEvent> {
  for await (const batch of sseEventBatches(body)) yield* batch;
}

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function sseNamed(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}
