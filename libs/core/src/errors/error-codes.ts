// The contract's error table (DESIGN.md "Errors"): one code, one status, one place.
export const ERROR_CODES = {
  missing_authorization: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  invalid_credentials: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  model_not_found: { status: 400, type: 'invalid_request_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  audio_not_supported_by_model: { status: 400, type: 'invalid_request_error' },
  insufficient_balance: { status: 402, type: 'insufficient_balance' },
  wallet_suspended: { status: 402, type: 'wallet_suspended' },
  storage_limit_exceeded: { status: 413, type: 'invalid_request_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_exceeded' },
  token_quota_exhausted: { status: 429, type: 'rate_limit_exceeded' },
  daily_limit_reached: { status: 429, type: 'rate_limit_exceeded' },
  upstream_error: { status: 502, type: 'upstream_error' },
  upstream_timeout: { status: 504, type: 'upstream_error' },
  idempotency_key_reused: { status: 409, type: 'invalid_request_error' },
  idempotency_in_progress: { status: 409, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  service_unavailable: { status: 503, type: 'service_unavailable' },
  internal_error: { status: 500, type: 'api_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Anthropic's error `type` for each status, for the /v1/messages envelope. */
export function anthropicErrorType(status: number): string {
  if (status === 400 || status === 413 || status === 415 || status === 409) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  return 'api_error';
}
