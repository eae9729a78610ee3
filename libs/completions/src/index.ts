// Public face of libs/completions: /v1/chat/completions and /v1/messages.
export * from './chat/chat-completion.dto';
export * from './chat/chat.service';
export * from './chat/chat-usage';
export * from './messages';
export * from './messages/messages.dto';
export * from './messages/messages.service';
export * from './token-count';
export * from './completions.module';
