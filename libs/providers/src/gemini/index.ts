// The Gemini (Google AI Studio / generativelanguage API) upstream adapter: pure transforms, no I/O.
import type { ChatAdapter, ProviderAdapter } from '../types';
import { chatToUpstream } from './chat.request';
import { chatFromUpstream } from './chat.response';
import { chatStreamMapper } from './chat.stream';
import { geminiCountTokens } from './count-tokens';
import { geminiEmbeddings } from './embeddings';
import { mapError } from './errors';

export const geminiChat: ChatAdapter = {
  toUpstream: chatToUpstream,
  fromUpstream: chatFromUpstream,
  streamMapper: chatStreamMapper,
  mapError,
};

export const geminiAdapter: ProviderAdapter = {
  kind: 'gemini',
  chat: geminiChat,
  embeddings: geminiEmbeddings,
  countTokens: geminiCountTokens,
};
