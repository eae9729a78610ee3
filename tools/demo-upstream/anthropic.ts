// Anthropic wire format: POST /v1/messages (JSON and the SSE event sequence) and /v1/messages/count_tokens.
import { countPromptTokens, lastUserText, planReply } from './content';
import type { Dialect, Exchange, StreamFrame } from './exchange';
import { asArray, asObj, hasBearer, header, isObj, num, type Route, stopList, str } from './route';
import type { Conversation, ConvMessage, Plan, PlannedChoice } from './types';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const anthropicDialect: Dialect = {
  provider: 'anthropic',
  authorized: (req) => header(req, 'x-api-key') !== '' || hasBearer(req),
  errorBody: (status, message) => ({
    type: 'error',
    error: { type: ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message },
  }),
  garbageEvent: 'event: content_block_delta\ndata: {"this is": not json\n\n',
  // what Anthropic sends when it is overloaded after the stream began
  streamError: (message) =>
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message } })}\n\n`,
  requestIdHeader: 'request-id',
};

export function readAnthropic(body: unknown, needMaxTokens: boolean): Conversation | { error: string } {
  const b = asObj(body);
  if (typeof b.model !== 'string' || b.model === '') return { error: 'model: Field required' };
  if (needMaxTokens && num(b.max_tokens) === undefined) return { error: 'max_tokens: Field required' };
  const raw = asArray(b.messages);
  if (raw.length === 0) return { error: 'messages: Field required' };

  const messages: ConvMessage[] = [];
  const system = typeof b.system === 'string' ? b.system : blocksText(b.system);
  if (system) messages.push({ role: 'system', text: system, userText: '', images: 0 });
  for (const m of raw) messages.push(readMessage(asObj(m)));

  const tools = asArray(b.tools)
    .map(asObj)
    .filter((t) => typeof t.name === 'string' && isObj(t.input_schema))
    .map((t) => ({ name: t.name as string, schema: t.input_schema }));
  // structured outputs: output_config.format, or the older beta's output_format
  const format = asObj(asObj(b.output_config).format ?? b.output_format);
  const tc = asObj(b.tool_choice);
  const toolChoice: Conversation['toolChoice'] =
    tc.type === 'none' ? 'none' : tc.type === 'any' ? 'required' : tc.type === 'tool' ? 'named' : 'auto';

  return {
    messages,
    tools,
    toolChoice,
    toolNames: tc.type === 'tool' ? [String(tc.name ?? '')] : undefined,
    parallelToolCalls: tc.disable_parallel_tool_use !== true,
    json: format.type === 'json_schema' ? { schema: format.schema } : undefined,
    maxTokens: num(b.max_tokens),
    stop: stopList(b.stop_sequences),
    n: 1,
    extraPromptChars: tools.length > 0 ? JSON.stringify(b.tools).length : 0,
  };
}

function blocksText(v: unknown): string {
  return asArray(v)
    .map(asObj)
    .filter((blk) => blk.type === 'text' && typeof blk.text === 'string')
    .map((blk) => blk.text as string)
    .join(' ');
}

function readMessage(m: Record<string, unknown>): ConvMessage {
  const role = m.role === 'assistant' ? 'assistant' : 'user';
  if (typeof m.content === 'string') {
    return { role, text: m.content, userText: role === 'user' ? m.content : '', images: 0 };
  }
  let text = '';
  let userText = '';
  let images = 0;
  let toolResult: string | undefined;
  for (const blk of asArray(m.content).map(asObj)) {
    if (blk.type === 'text' && typeof blk.text === 'string') {
      text += (text ? ' ' : '') + blk.text;
      userText += (userText ? ' ' : '') + blk.text;
    } else if (blk.type === 'image') {
      images++;
    } else if (blk.type === 'tool_use') {
      text += `${str(blk.name) ?? ''}${JSON.stringify(blk.input ?? {})}`;
    } else if (blk.type === 'tool_result') {
      const result = typeof blk.content === 'string' ? blk.content : blocksText(blk.content);
      images += asArray(blk.content).filter((c) => asObj(c).type === 'image').length;
      toolResult = toolResult === undefined ? result : `${toolResult} ${result}`;
      text += result;
    }
  }
  return { role, text, userText: role === 'user' ? userText : '', images, toolResult };
}

function stopReason(c: PlannedChoice): string {
  if (c.kind === 'tools') return 'tool_use';
  return c.finish === 'length' ? 'max_tokens' : c.finish === 'stop_sequence' ? 'stop_sequence' : 'end_turn';
}

function contentBlocks(c: PlannedChoice, id: string): unknown[] {
  if (c.kind === 'text') return [{ type: 'text', text: c.text }];
  return c.calls.map((call, k) => ({
    type: 'tool_use',
    id: toolUseId(id, k),
    name: call.name,
    input: JSON.parse(call.args) as unknown,
  }));
}

function toolUseId(messageId: string, k: number): string {
  return `toolu_${messageId.slice(-12)}${k}`;
}

function startUsage(plan: Plan, outputTokens: number) {
  return {
    input_tokens: plan.promptTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
  };
}

function message(plan: Plan, model: string, id: string, withUsage: boolean): unknown {
  const c = plan.choices[0];
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: contentBlocks(c, id),
    stop_reason: stopReason(c),
    stop_sequence: c.kind === 'text' ? c.stopSequence : null,
    ...(withUsage ? { usage: startUsage(plan, plan.completionTokens) } : {}),
  };
}

function event(type: string, data: Record<string, unknown>, content = false): StreamFrame {
  return { frame: `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`, content };
}

/** message_start, then per block start (ping after the first) / deltas / stop, message_delta, message_stop. */
function streamFrames(plan: Plan, model: string, id: string, withUsage: boolean): StreamFrame[] {
  const c = plan.choices[0];
  const frames: StreamFrame[] = [
    event('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        ...(withUsage ? { usage: startUsage(plan, 1) } : {}),
      },
    }),
  ];
  if (c.kind === 'text') {
    frames.push(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    frames.push(event('ping', {}));
    for (const text of c.pieces) {
      frames.push(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }, true));
    }
    frames.push(event('content_block_stop', { index: 0 }));
  } else {
    c.calls.forEach((call, index) => {
      const block = { type: 'tool_use', id: toolUseId(id, index), name: call.name, input: {} };
      frames.push(event('content_block_start', { index, content_block: block }, true));
      if (index === 0) frames.push(event('ping', {}));
      for (const partial_json of call.fragments) {
        frames.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }, true));
      }
      frames.push(event('content_block_stop', { index }));
    });
  }
  frames.push(
    event('message_delta', {
      delta: { stop_reason: stopReason(c), stop_sequence: c.kind === 'text' ? c.stopSequence : null },
      ...(withUsage ? { usage: { output_tokens: plan.completionTokens } } : {}),
    }),
  );
  frames.push(event('message_stop', {}));
  return frames;
}

async function messages(ex: Exchange): Promise<void> {
  const conv = readAnthropic(ex.body, true);
  if ('error' in conv) return ex.error(400, conv.error);
  const b = asObj(ex.body);
  const stream = b.stream === true;
  if (!(await ex.gate(lastUserText(conv), stream))) return;
  const plan = planReply(conv, ex.knobs);
  const id = ex.newId('msg_');
  if (!stream) return ex.json(200, message(plan, String(b.model), id, !ex.knobs.no_usage));
  await ex.stream(streamFrames(plan, String(b.model), id, !ex.knobs.no_usage));
}

async function countTokens(ex: Exchange): Promise<void> {
  const conv = readAnthropic(ex.body, false);
  if ('error' in conv) return ex.error(400, conv.error);
  if (!(await ex.gate(lastUserText(conv), false))) return;
  ex.json(200, { input_tokens: countPromptTokens(conv) });
}

export const anthropicRoutes: Route[] = [
  { method: 'POST', pattern: /^\/v1\/messages$/, dialect: anthropicDialect, handle: messages },
  { method: 'POST', pattern: /^\/v1\/messages\/count_tokens$/, dialect: anthropicDialect, handle: countTokens },
];
