// Public face of libs/allowlists: model access per agent, workspace and key.
export * from './allowlist';
export * from './allowlists.service';
export * from './allowlists.module';
