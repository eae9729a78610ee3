// Every upstream kind the gateway speaks. Adding a kind is adding a folder and a line here.
import { anthropicAdapter } from './anthropic';
import { geminiAdapter } from './gemini';
import { openaiAdapter } from './openai';
import type { ProviderAdapter, ProviderKind } from './types';

export const PROVIDER_ADAPTERS: Readonly<Record<ProviderKind, ProviderAdapter>> = {
  openai: openaiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
};
