// Upstream error text reaches clients only through this: keys, tokens, URLs, hosts and IPs removed,
// whitespace folded, length bounded. Providers put such things in messages more often than one would hope.
const PATTERNS: Array<[RegExp, string]> = [
  [/AIza[0-9A-Za-z_-]{10,}/g, '[redacted key]'],
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted key]'],
  [/\bya29\.[A-Za-z0-9._-]+/g, '[redacted token]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [redacted]'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, '[url]'],
  [/\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b/gi, '[ip]'],
  [/(?<![\w:])(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?![\w:])/gi, '[ip]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '[ip]'],
  [/\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|ai|app|cloud|internal|local|lan|corp)(?::\d+)?\b/gi, '[host]'],
  [/\blocalhost(?::\d+)?\b/gi, '[host]'],
];
const MAX_LENGTH = 500;

export function sanitizeMessage(message: string): string {
  let out = message;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > MAX_LENGTH ? `${out.slice(0, MAX_LENGTH)}...` : out;
}

export const CREDENTIALS_MESSAGE = "the upstream provider refused the gateway's credentials";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
