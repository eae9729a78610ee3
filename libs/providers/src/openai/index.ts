// The `openai` kind: any OpenAI-compatible server (OpenAI, DeepSeek, vLLM, Ollama, ...). Their
// differences are catalog data (quirks), not code.
import type { ProviderAdapter } from '../types';
import { openaiMapError } from './errors';
import { openaiChatRequest, openaiEmbeddingsRequest } from './request';
import { openaiChatResponse, openaiEmbeddingsResponse, openaiStreamMapper } from './response';

export const openaiAdapter: ProviderAdapter = {
  kind: 'openai',
  chat: {
    toUpstream: openaiChatRequest,
    fromUpstream: openaiChatResponse,
    streamMapper: openaiStreamMapper,
    mapError: openaiMapError,
  },
  embeddings: {
    toUpstream: openaiEmbeddingsRequest,
    fromUpstream: openaiEmbeddingsResponse,
    mapError: openaiMapError,
  },
};
