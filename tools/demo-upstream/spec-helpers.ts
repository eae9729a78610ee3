// Helpers for the demo upstream's own tests (and the e2e suites): JSON calls and an SSE reader.

export interface SseMessage {
  event?: string;
  data: string;
}

/** Splits an SSE body into events (LF or CRLF line ends, as OpenAI/Anthropic and Gemini send them). */
export function parseSse(body: string): SseMessage[] {
  const out: SseMessage[] = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    if (block.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    out.push({ event, data: data.join('\n') });
  }
  return out;
}

/** The JSON payloads of an SSE body, without OpenAI's `[DONE]`. */
export function sseJson<T = Record<string, unknown>>(body: string): T[] {
  return parseSse(body)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data) as T);
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: callers pick the shape they assert on
): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}
