// The Anthropic upstream adapter: OpenAI chat in, Anthropic Messages API out (see chat.*.ts).
import type { ChatAdapter, ProviderAdapter } from '../types';
import { toUpstream } from './chat.request';
import { fromUpstream } from './chat.response';
import { streamMapper } from './chat.stream';
import { anthropicCountTokens } from './count-tokens';
import { mapError } from './errors';

export const anthropicChat: ChatAdapter = { toUpstream, fromUpstream, streamMapper, mapError };

export const anthropicAdapter: ProviderAdapter = {
  kind: 'anthropic',
  chat: anthropicChat,
  countTokens: anthropicCountTokens,
};

export { JSON_MODE_TOOL_NAME } from './json-mode';
export { nativeMessagesCall, nativeMessageResult, nativeStreamMeter, type NativeUsage } from './native-messages';
