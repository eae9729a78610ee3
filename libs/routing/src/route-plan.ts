// Which upstreams to try, in order: the model's routes by priority (weight spreads load among equal
// priorities), then each fallback model's routes. Pure, so the order is testable with a seeded rng.
import type { ResolvedModel, ResolvedProvider } from '@switchyard/catalog';
import type { RouteTarget } from '@switchyard/providers';

export interface Attempt {
  model: ResolvedModel;
  target: RouteTarget;
  /** 0 for the requested model, n for its n-th fallback */
  depth: number;
}

export interface CatalogLookup {
  find(name: string): ResolvedModel | undefined;
  provider(id: string): ResolvedProvider | undefined;
}

export function planAttempts(
  primary: ResolvedModel,
  catalog: CatalogLookup,
  opts: { allowed: (m: ResolvedModel) => boolean; rng?: () => number },
): Attempt[] {
  const rng = opts.rng ?? Math.random;
  const out: Attempt[] = [];
  const models = [primary];
  for (const name of primary.fallbacks) {
    const fb = catalog.find(name);
    // a fallback must serve the same kind of request and be allowed for this caller
    if (fb && fb.kind === primary.kind && !models.includes(fb) && opts.allowed(fb)) models.push(fb);
  }
  models.forEach((model, depth) => {
    for (const route of orderRoutes(model.routes, rng)) {
      const p = catalog.provider(route.provider);
      if (!p || !p.enabled) continue;
      out.push({
        model,
        depth,
        target: {
          providerId: p.id,
          kind: p.kind,
          baseUrl: p.baseUrl,
          apiKey: p.apiKey,
          upstreamModel: route.model,
          timeoutMs: p.timeoutMs,
          quirks: p.quirks,
        },
      });
    }
  });
  return out;
}

/** Priority ascending; within a priority, a weighted random order (Efraimidis-Spirakis keys). */
export function orderRoutes<R extends { priority: number; weight: number }>(routes: R[], rng: () => number): R[] {
  const keyed = routes.map((r) => ({ r, key: Math.pow(rng() || Number.MIN_VALUE, 1 / Math.max(r.weight, 1)) }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || b.key - a.key);
  return keyed.map((k) => k.r);
}
