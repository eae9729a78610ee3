// Gemini API (generativelanguage.googleapis.com, v1beta) wire types: the fields this adapter writes or reads.
// Responses are proto3 JSON, so zero values (index 0, a count of 0) are omitted: every read has a default.

export interface GeminiInlineData {
  mimeType: string;
  /** base64, no data: prefix */
  data: string;
}

export interface GeminiFileData {
  mimeType?: string;
  fileUri: string;
}

export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  /** must be a JSON object (a protobuf Struct) */
  response: Record<string, unknown>;
}

export interface GeminiPart {
  text?: string;
  /** true on thought-summary parts: reasoning, never part of the answer */
  thought?: boolean;
  /** opaque; Gemini 3 requires it back on the first functionCall part of a model turn */
  thoughtSignature?: string;
  inlineData?: GeminiInlineData;
  fileData?: GeminiFileData;
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
}

export type GeminiRole = 'user' | 'model';

export interface GeminiContent {
  role?: GeminiRole;
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  /** full JSON Schema (Gemini 2.5+); mutually exclusive with the OpenAPI-subset `parameters` */
  parametersJsonSchema?: Record<string, unknown>;
}

export interface GeminiTool {
  functionDeclarations: GeminiFunctionDeclaration[];
}

export type GeminiFunctionCallingMode = 'AUTO' | 'ANY' | 'NONE';

export interface GeminiToolConfig {
  functionCallingConfig: { mode: GeminiFunctionCallingMode; allowedFunctionNames?: string[] };
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  /** full JSON Schema; mutually exclusive with the OpenAPI-subset `responseSchema` */
  responseJsonSchema?: Record<string, unknown>;
}

export interface GeminiGenerateContentRequest {
  /** only inside countTokens' `generateContentRequest` wrapper, as `models/{model}` */
  model?: string;
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

export type GeminiFinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 'STOP'
  | 'MAX_TOKENS'
  | 'SAFETY'
  | 'RECITATION'
  | 'LANGUAGE'
  | 'OTHER'
  | 'BLOCKLIST'
  | 'PROHIBITED_CONTENT'
  | 'SPII'
  | 'MALFORMED_FUNCTION_CALL'
  | 'IMAGE_SAFETY'
  | 'IMAGE_PROHIBITED_CONTENT'
  | 'IMAGE_RECITATION'
  | 'UNEXPECTED_TOOL_CALL'
  | 'TOO_MANY_TOOL_CALLS'
  | (string & {});

export interface GeminiCandidate {
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: GeminiFinishReason;
  index?: number;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  totalTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

export interface GeminiGenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

export interface GeminiErrorBody {
  error: {
    code?: number;
    message?: string;
    status?: string;
    details?: Array<{ '@type'?: string; reason?: string; [k: string]: unknown }>;
  };
}

export interface GeminiEmbedContentRequest {
  model: string;
  content: { parts: GeminiPart[] };
  outputDimensionality?: number;
}

export interface GeminiBatchEmbedContentsResponse {
  embeddings: Array<{ values: number[] }>;
}

export interface GeminiCountTokensRequest {
  generateContentRequest: GeminiGenerateContentRequest;
}

export interface GeminiCountTokensResponse {
  totalTokens?: number;
  cachedContentTokenCount?: number;
}
