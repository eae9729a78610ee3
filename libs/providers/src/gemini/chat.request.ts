// OpenAI chat request -> Gemini generateContent / streamGenerateContent call.
import { AdapterRequestError } from '../errors';
import type { ChatRequest, FunctionTool, RouteTarget, ToolChoice, UpstreamCall } from '../types';
import { toGeminiConversation } from './chat.messages';
import { toGeminiJsonSchema } from './json-schema';
import type { GeminiGenerateContentRequest, GeminiGenerationConfig, GeminiTool, GeminiToolConfig } from './types';
import { geminiHeaders, geminiUrl, isRecord } from './upstream';

export function chatToUpstream(req: ChatRequest, target: RouteTarget, opts: { stream: boolean }): UpstreamCall {
  return {
    method: 'POST',
    // alt=sse makes Gemini stream server-sent events instead of one growing JSON array.
    url: opts.stream ? geminiUrl(target, 'streamGenerateContent', 'alt=sse') : geminiUrl(target, 'generateContent'),
    headers: geminiHeaders(target),
    body: toGenerateContentRequest(req, target),
  };
}

/** The GenerateContentRequest body; countTokens wraps the same body so both count what is sent. */
export function toGenerateContentRequest(req: ChatRequest, target: RouteTarget): GeminiGenerateContentRequest {
  const request = dropParams(req, target.quirks?.drop_params);
  const body: GeminiGenerateContentRequest = toGeminiConversation(request.messages);
  const tools = toGeminiTools(request.tools);
  if (tools) {
    body.tools = tools;
    const toolConfig = toGeminiToolConfig(request.tool_choice, request.tools ?? []);
    if (toolConfig) body.toolConfig = toolConfig;
  } else if (request.tool_choice !== undefined && request.tool_choice !== 'none' && request.tool_choice !== 'auto') {
    throw new AdapterRequestError('tool_choice requires tools', 'tool_choice');
  }
  const generationConfig = toGenerationConfig(request);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return body;
}

/** quirks.drop_params names OpenAI fields a Gemini route must not translate (e.g. seed on an older model). */
function dropParams(req: ChatRequest, drop: string[] | undefined): ChatRequest {
  if (!drop || drop.length === 0) return req;
  const copy: ChatRequest = { ...req };
  for (const name of drop) if (name !== 'model' && name !== 'messages') delete copy[name];
  return copy;
}

function toGeminiTools(tools: FunctionTool[] | undefined): GeminiTool[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new AdapterRequestError('tools must be an array', 'tools');
  if (tools.length === 0) return undefined;
  const functionDeclarations = tools.map((tool, i) => {
    if (
      !isRecord(tool) ||
      tool.type !== 'function' ||
      !isRecord(tool.function) ||
      typeof tool.function.name !== 'string'
    ) {
      throw new AdapterRequestError('only function tools are supported', `tools[${i}]`);
    }
    const { name, description, parameters } = tool.function;
    return {
      name,
      ...(description ? { description } : {}),
      // parametersJsonSchema takes JSON Schema as OpenAI clients write it; see json-schema.ts.
      ...(isRecord(parameters) ? { parametersJsonSchema: toGeminiJsonSchema(parameters) } : {}),
    };
  });
  return [{ functionDeclarations }];
}

function toGeminiToolConfig(choice: ToolChoice | undefined, tools: FunctionTool[]): GeminiToolConfig | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isRecord(choice) && choice.type === 'function' && typeof choice.function?.name === 'string') {
    const name = choice.function.name;
    if (!tools.some((t) => t.function.name === name)) {
      throw new AdapterRequestError(`tool_choice names a function that is not in tools`, 'tool_choice');
    }
    // ANY restricted to one allowed name is Gemini's way to force a specific function.
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
  }
  throw new AdapterRequestError('unsupported tool_choice', 'tool_choice');
}

function toGenerationConfig(req: ChatRequest): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const num = (value: unknown, param: string): number | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new AdapterRequestError('must be a number', param);
    return value;
  };
  const set = <K extends keyof GeminiGenerationConfig>(key: K, value: GeminiGenerationConfig[K] | undefined): void => {
    if (value !== undefined) config[key] = value;
  };
  set('temperature', num(req.temperature, 'temperature'));
  set('topP', num(req.top_p, 'top_p'));
  set('maxOutputTokens', num(req.max_completion_tokens, 'max_completion_tokens') ?? num(req.max_tokens, 'max_tokens'));
  set('candidateCount', num(req.n, 'n'));
  set('seed', num(req.seed, 'seed'));
  set('presencePenalty', num(req.presence_penalty, 'presence_penalty'));
  set('frequencyPenalty', num(req.frequency_penalty, 'frequency_penalty'));
  if (typeof req.stop === 'string') config.stopSequences = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length > 0) config.stopSequences = req.stop;

  const format = req.response_format;
  if (format !== undefined && format !== null) {
    if (!isRecord(format)) throw new AdapterRequestError('response_format must be an object', 'response_format');
    if (format.type === 'json_object') {
      config.responseMimeType = 'application/json';
    } else if (format.type === 'json_schema') {
      config.responseMimeType = 'application/json';
      const schema = format.json_schema?.schema;
      // responseJsonSchema (Gemini 2.5+) keeps the client's JSON Schema semantics; see json-schema.ts.
      if (isRecord(schema)) config.responseJsonSchema = toGeminiJsonSchema(schema);
    } else if (format.type !== 'text') {
      throw new AdapterRequestError('unsupported response_format type', 'response_format.type');
    }
  }
  return config;
}
