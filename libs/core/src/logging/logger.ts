// Structured JSON logs (pino). Secrets never reach a log line: request headers and bodies are not
// logged at all, and known secret-bearing paths are redacted as a second line of defence.
import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'password',
  'key',
  'api_key',
  'token',
  'secret',
  '*.authorization',
  '*.password',
  '*.key',
  '*.api_key',
  '*.apiKey',
  '*.token',
  '*.secret',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
];

/**
 * `err` in a log line: what an operator needs (type, message, code, stack, and the same of its cause),
 * never what an error object happens to carry. TypeORM's QueryFailedError holds the SQL, its parameters
 * (key hashes, emails, password hashes) and the driver's error with the same; pg errors add `detail`
 * with row values. None of that is kept.
 */
export function serializeError(e: unknown, depth = 0): unknown {
  if (!(e instanceof Error)) return e;
  const out: Record<string, unknown> = { type: e.constructor?.name ?? e.name, message: e.message };
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (e.stack) out.stack = e.stack;
  if (e.cause !== undefined && depth < 3) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Nest's own messages (module init, route map, errors) through the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');
export type { Logger };
