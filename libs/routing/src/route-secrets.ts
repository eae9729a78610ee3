// What a route must never reveal to a client: its API key and where the upstream lives. Patterns in the
// providers' sanitizer catch what looks like a key or a host; these exact values catch the rest (a
// self-hosted box with a plain name, a key without a known prefix).
import { redactKnownDeep, sanitizeMessage, type RouteTarget } from '@switchyard/providers';

export function routeSecrets(target: RouteTarget): string[] {
  const out: string[] = [];
  if (target.apiKey) out.push(target.apiKey);
  try {
    const u = new URL(target.baseUrl);
    // host and hostname rather than the origin: the scheme left in place lets the sanitizer see the whole URL
    out.push(u.host, u.hostname.replace(/^\[|\]$/g, ''));
    // a longer path (a proxy route, a tenant prefix) places the upstream as surely as its host
    const path = u.pathname.replace(/\/+$/, '');
    if (path.length > 4) out.push(path);
  } catch {
    out.push(target.baseUrl); // not a URL: the whole string, then
  }
  return out;
}

/** A client-facing message about this route: patterns and the route's own values removed. */
export function redactForRoute(message: string, target: RouteTarget): string {
  return sanitizeMessage(message, { known: routeSecrets(target) });
}

/** An upstream error body with the route's own values removed before the adapter reads it. */
export function redactBodyForRoute(body: unknown, target: RouteTarget): unknown {
  return redactKnownDeep(body, routeSecrets(target));
}
