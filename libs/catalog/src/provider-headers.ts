// A provider's extra headers (quirks.headers) often are credentials (Azure's `api-key`, a proxy's
// token), so they are kept like api_key: each value sealed with MASTER_KEY in providers.secret_headers,
// shown redacted by the admin API, and opened only into the resolved catalog the upstream calls use.
import { GatewayError, decryptSecret, encryptSecret } from '@switchyard/core';

/** What the admin API shows for every header value; sent back unchanged, it keeps the stored value. */
export const REDACTED = '[redacted]';

/**
 * The sealed form of `headers`. A value of REDACTED keeps the stored value of that header (an admin
 * who read the provider and sends its quirks back does not wipe its secrets).
 */
export function sealHeaders(
  headers: Record<string, string>,
  stored: Record<string, string>,
  key: Buffer,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === REDACTED) {
      if (stored[name] === undefined)
        throw new GatewayError('bad_request', `header ${name} has no stored value to keep`, `quirks.headers.${name}`);
      out[name] = stored[name];
    } else {
      out[name] = encryptSecret(value, key);
    }
  }
  return out;
}

/** The headers in clear, for upstream calls; one that does not decrypt is left out and reported. */
export function openHeaders(
  sealed: Record<string, string> | null | undefined,
  key: Buffer,
  onError: (name: string) => void,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(sealed ?? {})) {
    try {
      out[name] = decryptSecret(value, key);
    } catch {
      onError(name);
    }
  }
  return out;
}

/** The header names with their values redacted, for the admin API; undefined when there are none. */
export function redactedHeaders(sealed: Record<string, string> | null | undefined): Record<string, string> | undefined {
  const names = Object.keys(sealed ?? {});
  return names.length ? Object.fromEntries(names.map((n) => [n, REDACTED])) : undefined;
}
