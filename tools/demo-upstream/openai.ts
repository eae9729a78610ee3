// OpenAI wire format: POST /v1/chat/completions (JSON and SSE), shapes as in OpenAI's OpenAPI spec.
import { lastUserText, planReply } from './content';
import type { Dialect, Exchange, StreamFrame } from './exchange';
import { asArray, asObj, hasBearer, isObj, num, type Route, sseData, stopList, str, unixNow } from './route';
import type { Conversation, ConvMessage, Plan, PlannedChoice } from './types';

const FINGERPRINT = 'fp_demo';

function errorType(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 404) return { type: 'invalid_request_error', code: 'unknown_url' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

export const openaiDialect: Dialect = {
  provider: 'openai',
  authorized: (req) => hasBearer(req),
  errorBody: (status, message, param = null) => {
    const { type, code } = errorType(status);
    return { error: { message, type, param, code } };
  },
  garbageEvent: 'data: {"this is": not json\n\n',
  streamError: (message) => sseData({ error: { message, type: 'server_error', param: null, code: null } }),
  requestIdHeader: 'x-request-id',
};

/** Reads a chat.completions body; returns an error message (and param) when it cannot be served. */
export function readOpenAIChat(body: unknown): Conversation | { error: string; param: string } {
  const b = asObj(body);
  if (typeof b.model !== 'string' || b.model === '')
    return { error: 'you must provide a model parameter', param: 'model' };
  const raw = asArray(b.messages);
  if (raw.length === 0) return { error: "'messages' must be a non-empty array", param: 'messages' };
  const messages = raw.map(readMessage);

  const tools = asArray(b.tools)
    .map((t) => asObj(asObj(t).function))
    .filter((f) => typeof f.name === 'string')
    .map((f) => ({ name: f.name as string, schema: f.parameters }));
  let toolChoice: Conversation['toolChoice'] = 'auto';
  let toolNames: string[] | undefined;
  const tc = b.tool_choice;
  if (tc === 'none' || tc === 'required' || tc === 'auto') toolChoice = tc;
  else if (isObj(tc) && tc.type === 'function') {
    toolChoice = 'named';
    toolNames = [String(asObj(tc.function).name ?? '')];
  } else if (isObj(tc) && tc.type === 'allowed_tools') {
    const allowed = asObj(tc.allowed_tools);
    toolChoice = allowed.mode === 'required' ? 'required' : 'auto';
    toolNames = asArray(allowed.tools).map((t) => String(asObj(asObj(t).function).name ?? ''));
  }

  const rf = asObj(b.response_format);
  const json =
    rf.type === 'json_object'
      ? {}
      : rf.type === 'json_schema'
        ? { schema: asObj(rf.json_schema).schema ?? {} }
        : undefined;

  return {
    messages,
    tools,
    toolChoice,
    toolNames,
    parallelToolCalls: b.parallel_tool_calls !== false,
    json,
    maxTokens: num(b.max_completion_tokens) ?? num(b.max_tokens),
    stop: stopList(b.stop),
    n: num(b.n) ?? 1,
    extraPromptChars: tools.length > 0 ? JSON.stringify(b.tools).length : 0,
  };
}

function readMessage(m: unknown): ConvMessage {
  const o = asObj(m);
  const role = o.role === 'system' || o.role === 'developer' ? 'system' : (str(o.role) ?? 'user');
  let text = '';
  let images = 0;
  if (typeof o.content === 'string') text = o.content;
  for (const part of asArray(o.content)) {
    const p = asObj(part);
    if (p.type === 'text' && typeof p.text === 'string') text += (text ? ' ' : '') + p.text;
    if (p.type === 'image_url') images++;
  }
  if (role === 'tool' || role === 'function') {
    return { role: 'tool', text, userText: '', images, toolResult: text };
  }
  if (role === 'assistant') {
    for (const call of asArray(o.tool_calls)) {
      const f = asObj(asObj(call).function);
      text += `${str(f.name) ?? ''}${str(f.arguments) ?? ''}`;
    }
    return { role: 'assistant', text, userText: '', images };
  }
  if (role === 'system') return { role: 'system', text, userText: '', images };
  return { role: 'user', text, userText: text, images };
}

function finishReason(c: PlannedChoice): 'stop' | 'length' | 'tool_calls' {
  return c.finish === 'stop_sequence' ? 'stop' : c.finish;
}

function usage(plan: Plan) {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Tool call ids are stable per response: call index plus the response id keeps them unique. */
function callId(responseId: string, choice: number, call: number): string {
  return `call_${responseId.slice(-12)}${choice}${call}`;
}

function completion(plan: Plan, model: string, id: string, withUsage: boolean): unknown {
  return {
    id,
    object: 'chat.completion',
    created: unixNow(),
    model,
    choices: plan.choices.map((c, index) => ({
      index,
      message:
        c.kind === 'text'
          ? { role: 'assistant', content: c.text, refusal: null, annotations: [] }
          : {
              role: 'assistant',
              content: null,
              refusal: null,
              annotations: [],
              tool_calls: c.calls.map((call, k) => ({
                id: callId(id, index, k),
                type: 'function',
                function: { name: call.name, arguments: call.args },
              })),
            },
      logprobs: null,
      finish_reason: finishReason(c),
    })),
    ...(withUsage ? { usage: usage(plan) } : {}),
    service_tier: 'default',
    system_fingerprint: FINGERPRINT,
  };
}

type Delta = Record<string, unknown>;

function contentDeltas(c: PlannedChoice, id: string, index: number): Delta[] {
  if (c.kind === 'text') return c.pieces.map((content) => ({ content }));
  const out: Delta[] = [];
  c.calls.forEach((call, k) => {
    out.push({
      tool_calls: [
        { index: k, id: callId(id, index, k), type: 'function', function: { name: call.name, arguments: '' } },
      ],
    });
    for (const fragment of call.fragments) out.push({ tool_calls: [{ index: k, function: { arguments: fragment } }] });
  });
  return out;
}

/** Chunks in OpenAI's order: role delta, content deltas (choices interleaved), finish, usage, [DONE]. */
function streamFrames(plan: Plan, model: string, id: string, usageChunk: boolean, usageNull: boolean): StreamFrame[] {
  const base = {
    id,
    object: 'chat.completion.chunk',
    created: unixNow(),
    model,
    service_tier: 'default',
    system_fingerprint: FINGERPRINT,
    ...(usageNull ? { usage: null } : {}),
  };
  const chunk = (index: number, delta: Delta, finish: string | null, content: boolean): StreamFrame => ({
    frame: sseData({ ...base, choices: [{ index, delta, logprobs: null, finish_reason: finish }] }),
    content,
  });
  const frames: StreamFrame[] = [];
  plan.choices.forEach((c, i) => {
    const role = { role: 'assistant', content: c.kind === 'text' ? '' : null, refusal: null };
    frames.push(chunk(i, role, null, false));
  });
  const deltas = plan.choices.map((c, i) => contentDeltas(c, id, i));
  const rounds = Math.max(0, ...deltas.map((d) => d.length));
  for (let r = 0; r < rounds; r++) {
    deltas.forEach((list, i) => {
      if (r < list.length) frames.push(chunk(i, list[r], null, true));
    });
  }
  plan.choices.forEach((c, i) => frames.push(chunk(i, {}, finishReason(c), false)));
  if (usageChunk) frames.push({ frame: sseData({ ...base, choices: [], usage: usage(plan) }), content: false });
  frames.push({ frame: 'data: [DONE]\n\n', content: false });
  return frames;
}

async function chatCompletions(ex: Exchange): Promise<void> {
  const conv = readOpenAIChat(ex.body);
  if ('error' in conv) return ex.error(400, conv.error, conv.param);
  const b = asObj(ex.body);
  const stream = b.stream === true;
  if (!(await ex.gate(lastUserText(conv), stream))) return;
  const plan = planReply(conv, ex.knobs);
  const model = String(b.model);
  const id = ex.newId('chatcmpl-');
  const withUsage = !ex.knobs.no_usage;
  if (!stream) return ex.json(200, completion(plan, model, id, withUsage));
  const includeUsage = asObj(b.stream_options).include_usage === true && withUsage;
  await ex.stream(streamFrames(plan, model, id, includeUsage, includeUsage));
}

export const openaiChatRoutes: Route[] = [
  { method: 'POST', pattern: /^\/v1\/chat\/completions$/, dialect: openaiDialect, handle: chatCompletions },
];
