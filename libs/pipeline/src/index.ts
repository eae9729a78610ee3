// Public face of libs/pipeline: the /v1 request path (auth, model, allowlist, limits, hold, settle, usage).
export * from './estimate';
export * from './gateway-call';
export * from './gateway-auth.guard';
export * from './pipeline.service';
export * from './usage-recorder';
export * from './pipeline.module';
export * from './validate-body';
export * from './sse-writer';
export * from './served-headers';
export * from './idempotent-reply';
export * from './served';
