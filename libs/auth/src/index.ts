// Public face of libs/auth: API keys (issue, hash, verify, cache), admin login and tokens.
export * from './entities/api-key.entity';
export * from './entities/admin-token.entity';
export * from './api-key-format';
export * from './key-context';
export * from './key-auth.service';
export * from './api-key.guard';
export * from './api-keys.service';
export * from './admin-tokens.service';
export * from './admin-auth.strategies';
export * from './auth.module';
