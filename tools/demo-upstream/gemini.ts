// Gemini wire format: POST /v1beta/models/{model}:generateContent, :streamGenerateContent (SSE with
// ?alt=sse, else a streamed JSON array) and :countTokens. Accepts camelCase and snake_case fields,
// as the REST API does.
import { countPromptTokens, lastUserText, planReply } from './content';
import type { Dialect, Exchange, StreamFrame } from './exchange';
import { asArray, asObj, hasBearer, header, isObj, num, type Obj, type Route, stopList, str } from './route';
import type { Conversation, ConvMessage, Plan, PlannedChoice } from './types';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const geminiDialect: Dialect = {
  provider: 'gemini',
  authorized: (req, query) => header(req, 'x-goog-api-key') !== '' || !!query.get('key') || hasBearer(req),
  errorBody: (status, message) => ({
    error: {
      code: status,
      message,
      status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
    },
  }),
  garbageEvent: 'data: {"this is": not json\r\n\r\n',
  streamError: (message) => `data: ${JSON.stringify({ error: { code: 503, message, status: 'UNAVAILABLE' } })}\r\n\r\n`,
  requestIdHeader: 'x-request-id',
};

/** A field by its camelCase name, or its snake_case twin. */
export function field(o: Obj, camel: string): unknown {
  return o[camel] ?? o[camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

export function readGemini(body: unknown): Conversation | { error: string } {
  const b = asObj(body);
  const raw = asArray(b.contents);
  if (raw.length === 0) return { error: '* GenerateContentRequest.contents: contents is not specified' };

  const messages: ConvMessage[] = [];
  const sys = field(b, 'systemInstruction');
  const system = typeof sys === 'string' ? sys : partsText(asObj(sys).parts);
  if (system) messages.push({ role: 'system', text: system, userText: '', images: 0 });
  for (const c of raw) messages.push(readContent(asObj(c)));

  const tools = asArray(b.tools)
    .flatMap((t) => asArray(field(asObj(t), 'functionDeclarations')))
    .map(asObj)
    .filter((f) => typeof f.name === 'string')
    .map((f) => ({ name: f.name as string, schema: field(f, 'parametersJsonSchema') ?? f.parameters }));
  const fcc = asObj(field(asObj(field(b, 'toolConfig')), 'functionCallingConfig'));
  const mode = str(fcc.mode)?.toUpperCase();
  const allowed = asArray(field(fcc, 'allowedFunctionNames')).filter((n): n is string => typeof n === 'string');

  const gc = asObj(field(b, 'generationConfig'));
  const json =
    field(gc, 'responseMimeType') === 'application/json'
      ? { schema: field(gc, 'responseJsonSchema') ?? field(gc, 'responseSchema') }
      : undefined;

  return {
    messages,
    tools,
    toolChoice: mode === 'NONE' ? 'none' : mode === 'ANY' ? 'required' : 'auto',
    toolNames: allowed.length > 0 ? allowed : undefined,
    parallelToolCalls: true,
    json,
    maxTokens: num(field(gc, 'maxOutputTokens')),
    stop: stopList(field(gc, 'stopSequences')),
    n: num(field(gc, 'candidateCount')) ?? 1,
    extraPromptChars: tools.length > 0 ? JSON.stringify(b.tools).length : 0,
  };
}

function partsText(parts: unknown): string {
  return asArray(parts)
    .map((p) => str(asObj(p).text))
    .filter((t): t is string => t !== undefined)
    .join(' ');
}

function readContent(c: Obj): ConvMessage {
  const role = c.role === 'model' ? 'assistant' : 'user';
  let text = '';
  let userText = '';
  let images = 0;
  let toolResult: string | undefined;
  for (const p of asArray(c.parts).map(asObj)) {
    if (typeof p.text === 'string') {
      text += (text ? ' ' : '') + p.text;
      userText += (userText ? ' ' : '') + p.text;
    } else if (field(p, 'inlineData') !== undefined || field(p, 'fileData') !== undefined) {
      images++;
    } else if (isObj(field(p, 'functionCall'))) {
      const call = asObj(field(p, 'functionCall'));
      text += `${str(call.name) ?? ''}${JSON.stringify(call.args ?? {})}`;
    } else if (isObj(field(p, 'functionResponse'))) {
      const result = JSON.stringify(asObj(field(p, 'functionResponse')).response ?? {});
      toolResult = toolResult === undefined ? result : `${toolResult} ${result}`;
      text += result;
    }
  }
  return { role, text, userText: role === 'user' ? userText : '', images, toolResult };
}

function finishReason(c: PlannedChoice): string {
  return c.kind === 'text' && c.finish === 'length' ? 'MAX_TOKENS' : 'STOP';
}

function usage(plan: Plan, final: boolean) {
  if (!final) return { promptTokenCount: plan.promptTokens, totalTokenCount: plan.promptTokens };
  return {
    promptTokenCount: plan.promptTokens,
    candidatesTokenCount: plan.completionTokens,
    totalTokenCount: plan.promptTokens + plan.completionTokens,
  };
}

/** The parts of one candidate, grouped as a stream carries them: a word per chunk, all calls in one. */
function partGroups(c: PlannedChoice): unknown[][] {
  if (c.kind === 'tools') {
    return [c.calls.map((call) => ({ functionCall: { name: call.name, args: JSON.parse(call.args) as unknown } }))];
  }
  return c.pieces.length > 0 ? c.pieces.map((text) => [{ text }]) : [[{ text: '' }]];
}

function response(plan: Plan, model: string, id: string, withUsage: boolean): unknown {
  return {
    candidates: plan.choices.map((c, index) => ({
      content: { parts: c.kind === 'text' ? [{ text: c.text }] : partGroups(c)[0], role: 'model' },
      finishReason: finishReason(c),
      index,
    })),
    ...(withUsage ? { usageMetadata: usage(plan, true) } : {}),
    modelVersion: model,
    responseId: id,
  };
}

/** One chunk per round of parts; a candidate's last chunk has finishReason, the last chunk full usage. */
function streamChunks(plan: Plan, model: string, id: string, withUsage: boolean): unknown[] {
  const groups = plan.choices.map(partGroups);
  const rounds = Math.max(...groups.map((g) => g.length));
  const chunks: unknown[] = [];
  for (let r = 0; r < rounds; r++) {
    const candidates = [];
    for (let i = 0; i < groups.length; i++) {
      if (r >= groups[i].length) continue;
      const last = r === groups[i].length - 1;
      candidates.push({
        content: { parts: groups[i][r], role: 'model' },
        ...(last ? { finishReason: finishReason(plan.choices[i]) } : {}),
        index: i,
      });
    }
    chunks.push({
      candidates,
      ...(withUsage ? { usageMetadata: usage(plan, r === rounds - 1) } : {}),
      modelVersion: model,
      responseId: id,
    });
  }
  return chunks;
}

async function generate(ex: Exchange, params: string[], stream: boolean): Promise<void> {
  const conv = readGemini(ex.body);
  if ('error' in conv) return ex.error(400, conv.error);
  if (!(await ex.gate(lastUserText(conv), stream))) return;
  const plan = planReply(conv, ex.knobs);
  const model = params[0];
  const id = ex.newId('demo-');
  const withUsage = !ex.knobs.no_usage;
  if (!stream) return ex.json(200, response(plan, model, id, withUsage));
  const chunks = streamChunks(plan, model, id, withUsage);
  if (ex.query.get('alt') === 'sse') {
    const frames = chunks.map((c) => ({ frame: `data: ${JSON.stringify(c)}\r\n\r\n`, content: true }));
    return ex.stream(frames);
  }
  // without alt=sse the API streams one JSON array
  const frames: StreamFrame[] = chunks.map((c, i) => ({
    frame: `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(c)}`,
    content: true,
  }));
  frames.push({ frame: ']', content: false });
  await ex.stream(frames, 'application/json; charset=UTF-8');
}

async function countTokens(ex: Exchange): Promise<void> {
  const b = asObj(ex.body);
  const inner = field(b, 'generateContentRequest');
  const conv = readGemini(isObj(inner) ? inner : b);
  if ('error' in conv) return ex.error(400, conv.error);
  if (!(await ex.gate(lastUserText(conv), false))) return;
  ex.json(200, { totalTokens: countPromptTokens(conv) });
}

const modelPath = (method: string) => new RegExp(`^/(?:v1beta|v1)/models/([^/:]+):${method}$`);

export const geminiRoutes: Route[] = [
  {
    method: 'POST',
    pattern: modelPath('generateContent'),
    dialect: geminiDialect,
    handle: (ex, p) => generate(ex, p, false),
  },
  {
    method: 'POST',
    pattern: modelPath('streamGenerateContent'),
    dialect: geminiDialect,
    handle: (ex, p) => generate(ex, p, true),
  },
  { method: 'POST', pattern: modelPath('countTokens'), dialect: geminiDialect, handle: countTokens },
];
