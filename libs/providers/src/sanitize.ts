// Upstream error text reaches clients only through this one sanitizer (every adapter and the router use
// it): credentials, URLs, hosts, addresses, paths and e-mail addresses removed, whitespace folded, length
// bounded. Patterns alone cannot know a self-hosted box's name or a key without a known prefix, so the
// router also passes the route's own key and address as `known` values (see redactKnown).

/** Credentials (and URLs): first, so that no later rule leaves half a key behind. */
const CREDENTIAL_RULES: Array<[RegExp, string]> = [
  // a URL first and whole: its query string may carry a key, its host is a location anyway
  // brackets may be inside: an IPv6 host, or a value already redacted by the router
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)]+/gi, '[url]'],
  [/\bBearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
  [/\bBasic\s+[A-Za-z0-9+/=]{8,}/g, 'Basic [redacted]'],
  // key=..., "api_key": "...", token: ..., password=...: values of six characters or more, so "key: must" stays
  [
    /\b((?:x-)?(?:api[_-]?key|access[_-]?token|auth[_-]?token|token|secret|password|passwd|key|sig|signature))(["']?\s*[=:]\s*["']?)[^\s"'&,;)]{6,}/gi,
    '$1$2[redacted]',
  ],
  [/\bAIza[0-9A-Za-z_-]{10,}/g, '[redacted key]'],
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted key]'],
  [/\bya29\.[A-Za-z0-9._-]+/g, '[redacted token]'],
  [/\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[0-9A-Z]{16}\b/g, '[redacted key]'],
  [/\b(?:gh[pousr]|github_pat|gsk|hf|r8)_[A-Za-z0-9_]{16,}/g, '[redacted key]'],
  [/\bxai-[A-Za-z0-9]{16,}/g, '[redacted key]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, '[redacted token]'],
  // anything a deployment named "...secret..." (a key variable's value, a secret's name)
  [/[A-Za-z0-9_-]*secret[A-Za-z0-9_-]*/gi, '[redacted]'],
  // long random-looking runs of letters and digits: keys, signatures, session ids
  [/\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b/g, '[redacted]'],
];

/** Locations: e-mail addresses, IPs, host:port, hostnames, absolute paths. */
const LOCATION_RULES: Array<[RegExp, string | ((m: string) => string)]> = [
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g, '[email]'],
  // IPv6: four or more groups, or a '::' compression (times such as 12:30:45 stay untouched)
  [/\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b/gi, '[ip]'],
  [/(?<![\w:])(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?![\w:])/gi, '[ip]'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '[ip]'],
  // name:port, dotted or not (vllm-gpu-3:8000); the name needs a letter, so 12:30 is a time
  [/(?<![\w.-])(?=[a-z0-9.-]*[a-z])[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?:\d{2,5}\b/gi, '[host]'],
  [/\blocalhost\b/gi, '[host]'],
  [/(?<![\w.@/-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(?![\w-])/gi, (m) => (isHostname(m) ? '[host]' : m)],
  // absolute paths of two segments or more (a proxy's route, a file on the upstream's disk)
  [/(?<![\w.:/-])\/(?:[\w.=,%~-]+\/)+[\w.=,%~-]*/g, '[path]'],
];

/** Top-level domains seen in upstream messages, internal ones included; two-letter words such as id are left out. */
const TLDS = new Set(
  (
    'com net org io ai dev app cloud co info biz xyz tech site online host services systems ' +
    'uk de fr jp cn ru br eu us ca au nl se ch es pl kr sg hk tw nz za mx ar be dk fi ie il pt cz gr hu ro tr ua vn ' +
    'internal intranet local localdomain lan corp home svc cluster private test example invalid arpa'
  ).split(' '),
);

/**
 * A dotted word is a hostname when its last label is a known TLD, or when it looks like a machine name
 * (three labels or more, or a digit or hyphen in a label) with no all-digit label; field paths such as
 * messages.0.content, generation_config.response_schema or file.json are kept.
 */
function isHostname(candidate: string): boolean {
  const labels = candidate.split('.');
  const tld = labels[labels.length - 1].toLowerCase();
  if (TLDS.has(tld)) return true;
  if (candidate !== candidate.toLowerCase()) return false;
  if (labels.some((l) => /^\d+$/.test(l))) return false;
  return labels.length >= 3 || labels.some((l) => /[\d-]/.test(l));
}

const MAX_LENGTH = 500;
/** Known values shorter than this are not redacted: replacing "v1" or "80" everywhere would garble text. */
const MIN_KNOWN_LENGTH = 4;

export interface SanitizeOptions {
  /** exact strings that must never appear: the route's API key, its host, host:port, base URL */
  known?: readonly string[];
}

export function sanitizeMessage(message: string, opts: SanitizeOptions = {}): string {
  let out = redactKnown(message, opts.known ?? []);
  for (const [pattern, replacement] of CREDENTIAL_RULES) out = out.replace(pattern, replacement);
  for (const [pattern, replacement] of LOCATION_RULES) {
    out = typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > MAX_LENGTH ? `${out.slice(0, MAX_LENGTH)}...` : out;
}

/** Replaces every occurrence of each known value (longest first, case-insensitive) with [redacted]. */
export function redactKnown(text: string, known: readonly string[]): string {
  const values = [...new Set(known.filter((k) => k.length >= MIN_KNOWN_LENGTH))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of values) out = out.replace(new RegExp(escapeRegExp(v), 'gi'), '[redacted]');
  return out;
}

/** Every string inside a parsed upstream body with the known values redacted (before an adapter reads it). */
export function redactKnownDeep(value: unknown, known: readonly string[]): unknown {
  if (known.length === 0) return value;
  if (typeof value === 'string') return redactKnown(value, known);
  if (Array.isArray(value)) return value.map((v) => redactKnownDeep(v, known));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactKnownDeep(v, known);
    return out;
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const CREDENTIALS_MESSAGE = "the upstream provider refused the gateway's credentials";

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
