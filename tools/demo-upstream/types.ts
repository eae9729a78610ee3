// Public types of the demo upstream, and the provider-neutral request shape the three wire formats
// are read into (so the reply rules live in one place: content.ts).
import type { EventEmitter } from 'node:events';

export interface DemoKnobs {
  /** delay before a non-stream response (and before stream headers) */
  latency_ms?: number;
  /** stream: extra delay before the first event */
  ttft_ms?: number;
  /** stream: content events per second (0/undefined = as fast as possible) */
  tps?: number;
  /** number of output words of a plain reply; default 12 */
  tokens?: number;
  /** answer with this HTTP error status and the provider's own error body shape */
  status?: number;
  /** with status: only the first N requests carrying the same knob string fail */
  fail_count?: number;
  /** stream: destroy the socket after N content events */
  drop_after?: number;
  /** stream: after N content events, send the provider's in-stream error event and end the response */
  error_after?: number;
  /** stream: after N content events, end the response cleanly, with no finish, usage or [DONE] */
  end_after?: number;
  /** error texts (status, error_after) name the caller's key, this server's address and internal URLs */
  leaky_error?: boolean;
  /** report this many prompt tokens (an upstream whose tokenizer counts more than the gateway estimated) */
  prompt_tokens?: number;
  /** omit usage from responses and streams */
  no_usage?: boolean;
  /** accept the request and never answer */
  hang?: boolean;
  /** answer 200 with a body that is not the provider's shape */
  malformed?: boolean;
  /** call every offered tool (parallel tool calls) */
  parallel?: boolean;
}

export type DemoProvider = 'openai' | 'anthropic' | 'gemini' | 'other';

export interface RecordedRequest {
  id: number;
  provider: DemoProvider;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  knobs: DemoKnobs;
  aborted: boolean;
  finished: boolean;
}

export interface DemoUpstream {
  /** e.g. http://127.0.0.1:34567 (no trailing slash) */
  url: string;
  port: number;
  /** every request, in arrival order (the last 1000); control routes under /__demo are not recorded */
  requests: RecordedRequest[];
  /** 'request' (RecordedRequest) on arrival, 'aborted' (RecordedRequest) when the client left early */
  events: EventEmitter;
  setDefaults(knobs: DemoKnobs): void;
  reset(): void;
  close(): Promise<void>;
}

export interface StartOptions {
  port?: number;
  host?: string;
  defaults?: DemoKnobs;
}

// ---------- provider-neutral request ----------

export interface ConvMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** every text the message carries: text parts, tool call arguments, tool results */
  text: string;
  /** user-visible text only (no tool results): where directives and the echo come from */
  userText: string;
  images: number;
  /** set when the message is (or carries) a tool result */
  toolResult?: string;
}

export interface ConvTool {
  name: string;
  schema: unknown;
}

export interface Conversation {
  messages: ConvMessage[];
  tools: ConvTool[];
  /** 'named' forces toolNames[0]; 'required' with toolNames restricts to those (Gemini allowedFunctionNames) */
  toolChoice: 'auto' | 'none' | 'required' | 'named';
  toolNames?: string[];
  parallelToolCalls: boolean;
  /** JSON mode: schema undefined means "any JSON object" */
  json?: { schema?: unknown };
  maxTokens?: number;
  stop: string[];
  n: number;
  /** characters of tool definitions, counted as prompt text */
  extraPromptChars: number;
}

// ---------- the planned reply ----------

export interface TextChoice {
  kind: 'text';
  /** content pieces; joined they are `text`; one piece is one output token */
  pieces: string[];
  text: string;
  finish: 'stop' | 'length' | 'stop_sequence';
  stopSequence: string | null;
}

export interface PlannedCall {
  name: string;
  args: string;
  /** argument fragments as a stream carries them */
  fragments: string[];
}

export interface ToolChoiceReply {
  kind: 'tools';
  calls: PlannedCall[];
  finish: 'tool_calls';
}

export type PlannedChoice = TextChoice | ToolChoiceReply;

export interface Plan {
  choices: PlannedChoice[];
  promptTokens: number;
  completionTokens: number;
  images: number;
}
