// Public face of libs/providers: the adapter contract, one adapter per upstream kind, the transport.
export * from './types';
export * from './errors';
export * from './sanitize';
export * from './registry';
export * from './transport/upstream-transport';
export * from './transport/sse';
export { openaiAdapter } from './openai';
export * from './anthropic.exports';
export { geminiAdapter } from './gemini';
