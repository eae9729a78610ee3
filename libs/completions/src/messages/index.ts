// The /v1/messages edge: Anthropic requests in, the internal OpenAI chat shape through any upstream, Anthropic out.
export { messagesRequestToChat } from './messages-request';
export { chatCompletionToMessage, toAnthropicStopReason, toAnthropicUsage } from './messages-response';
export { chatChunksToMessageEvents, type MessageEventsMapper } from './messages-stream';
