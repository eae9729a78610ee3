// The internal wire shapes: the gateway speaks OpenAI's chat format inside (as LiteLLM and Portkey do).
// Each upstream adapter converts at its edge; /v1/messages converts at the gateway's edge.
// Types cover the fields the gateway reads or writes; unknown fields are carried through untouched.

export type ProviderKind = 'openai' | 'anthropic' | 'gemini';

// ---------- chat request ----------
export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export interface AudioPart {
  type: 'input_audio';
  input_audio: { data: string; format: string };
}
export interface FilePart {
  type: 'file';
  file: { file_id?: string; file_data?: string; filename?: string };
}
export type ContentPart = TextPart | ImagePart | AudioPart | FilePart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | TextPart[]; name?: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | TextPart[] | null;
      tool_calls?: ToolCall[];
      name?: string;
      refusal?: string | null;
    }
  | { role: 'tool'; content: string | TextPart[]; tool_call_id: string };

export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string };
    };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  tools?: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  user?: string;
  [extra: string]: unknown;
}

// ---------- chat response ----------
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
  [extra: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: string | null;
      tool_calls?: ToolCall[];
      [extra: string]: unknown;
    };
    finish_reason: FinishReason;
    logprobs: unknown;
  }>;
  usage?: Usage;
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      refusal?: string | null;
      tool_calls?: ToolCallDelta[];
      [extra: string]: unknown;
    };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: Usage | null;
  system_fingerprint?: string | null;
  [extra: string]: unknown;
}

// ---------- embeddings ----------
export type EmbeddingInputBlock =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'video_url'; video_url: { url: string } };

export interface EmbeddingRequest {
  model: string;
  input: string | string[] | number[] | number[][] | EmbeddingInputBlock[];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [extra: string]: unknown;
}

export interface EmbeddingResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  /** what the upstream reported; adapters leave it out when it reported nothing (the gateway then counts) */
  usage?: { prompt_tokens: number; total_tokens: number };
}

// ---------- the adapter contract ----------

/** Deterministic clock and ids for transforms: never Date.now() or randomUUID() inside an adapter. */
export interface AdapterContext {
  /** unix time in milliseconds */
  now(): number;
  /** a fresh id with the given prefix, e.g. newId('chatcmpl') -> 'chatcmpl-...' */
  newId(prefix: string): string;
}

/** Provider-specific quirks of OpenAI-compatible servers are data in the catalog, not code. */
export interface ProviderQuirks {
  /** request fields the upstream rejects; removed before sending */
  drop_params?: string[];
  /** request fields the upstream names differently, e.g. { max_completion_tokens: 'max_tokens' } */
  rename_params?: Record<string, string>;
  /** the upstream refuses stream_options (some older OpenAI-compatible servers) */
  no_stream_options?: boolean;
  /** the upstream can produce several choices (n > 1) */
  supports_n?: boolean;
  /** extra headers sent on every call, e.g. { 'anthropic-version': '2023-06-01' } */
  headers?: Record<string, string>;
}

/** Where one route of a model points: resolved from the catalog before the adapter is called. */
export interface RouteTarget {
  providerId: string;
  kind: ProviderKind;
  /** base URL as the provider's own SDK takes it (see DESIGN.md "Catalog file") */
  baseUrl: string;
  apiKey?: string;
  /** the model id the upstream knows */
  upstreamModel: string;
  timeoutMs: number;
  quirks?: ProviderQuirks;
}

/** What the transport sends: absolute URL, headers (auth included), and a JSON body. */
export interface UpstreamCall {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

/** One server-sent event as eventsource-parser delivers it. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

export interface UpstreamErrorInfo {
  /** true when another route or fallback may succeed (connect error, timeout, 429, 5xx) */
  retryable: boolean;
  /** 'bad_request' when the upstream refused the request itself; 'upstream_error' otherwise */
  code: 'bad_request' | 'upstream_error' | 'upstream_timeout';
  /** a message safe to show the client: no upstream key, host or internal URL */
  message: string;
}

/** Stateful per stream; push() is called for every upstream SSE event, end() once the upstream stream ends. */
export interface ChatStreamMapper {
  push(event: SseEvent): ChatCompletionChunk[];
  end(): ChatCompletionChunk[];
}

export interface ChatResultMeta {
  /** the model name to put in responses (the alias the client sent) */
  model: string;
  /**
   * false when the client sent parallel_tool_calls: false: an adapter whose upstream has no such option
   * (Gemini) keeps the first tool call of each choice. The router sets it from the request.
   */
  parallelToolCalls?: boolean;
}

export interface ChatAdapter {
  /** pure: the request to send for this route. `stream` decides the upstream endpoint and flags. */
  toUpstream(req: ChatRequest, target: RouteTarget, opts: { stream: boolean }): UpstreamCall;
  /** pure: the upstream's non-stream body as an OpenAI chat.completion. Throws UpstreamMalformedError on junk. */
  fromUpstream(body: unknown, ctx: AdapterContext, meta: ChatResultMeta): ChatCompletion;
  /**
   * pure per event: OpenAI chunks in spec order (role delta first, content / tool_call deltas, a chunk with
   * finish_reason, then one usage chunk with `choices: []` when the upstream reported usage).
   */
  streamMapper(ctx: AdapterContext, meta: ChatResultMeta): ChatStreamMapper;
  /** pure: an upstream error status and body as a client-safe error. */
  mapError(status: number, body: unknown): UpstreamErrorInfo;
}

export interface EmbeddingsAdapter {
  toUpstream(req: EmbeddingRequest, target: RouteTarget): UpstreamCall;
  /** `req` is the client's request: the adapter honours encoding_format when the upstream cannot. */
  fromUpstream(body: unknown, req: EmbeddingRequest, meta: ChatResultMeta): EmbeddingResponse;
  mapError(status: number, body: unknown): UpstreamErrorInfo;
}

/** Native token counting on the upstream (Anthropic count_tokens, Gemini countTokens). */
export interface CountTokensAdapter {
  toUpstream(req: ChatRequest, target: RouteTarget): UpstreamCall;
  fromUpstream(body: unknown): { input_tokens: number };
}

export interface ProviderAdapter {
  kind: ProviderKind;
  chat: ChatAdapter;
  embeddings?: EmbeddingsAdapter;
  countTokens?: CountTokensAdapter;
}

/** Thrown by a transform when the upstream answered something that is not its documented shape. */
export class UpstreamMalformedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamMalformedError';
  }
}
