export * from './error-codes';
export * from './gateway-error';
export * from './to-gateway-error';
export * from './envelope';
export * from './all-exceptions.filter';
export * from './validation-error';
