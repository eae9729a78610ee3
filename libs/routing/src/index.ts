// Public face of libs/routing: route choice, fallbacks, upstream calls and their error mapping.
export * from './route-plan';
export * from './adapter-context';
export * from './upstream-router.service';
export * from './routing.module';
export * from './route-secrets';
export * from './stream-commit';
