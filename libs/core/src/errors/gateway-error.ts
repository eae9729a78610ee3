import { ERROR_CODES, ErrorCode } from './error-codes';

/** The one error type services throw; each surface's filter turns it into its envelope. */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly param: string | null = null,
    /** extra response headers, e.g. Retry-After */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GatewayError';
    this.status = ERROR_CODES[code].status;
  }

  get type(): string {
    return ERROR_CODES[this.code].type;
  }
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}
