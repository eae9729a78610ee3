// Upstream SSE bodies as events (eventsource-parser does the parsing), and our own SSE writing.
import { createParser } from 'eventsource-parser';
import type { SseEvent } from '../types';
import type { UpstreamBody } from './upstream-transport';

export async function* sseEvents(body: UpstreamBody): AsyncGenerator<SseEvent> {
  const queue: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => queue.push({ event: e.event, data: e.data, id: e.id }) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
    while (queue.length) yield queue.shift()!;
  }
  parser.feed(decoder.decode());
  parser.reset({ consume: true }); // a last event without its blank line still counts
  while (queue.length) yield queue.shift()!;
}

export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export function sseNamed(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}
