import { parsePrice, ResolvedModel, ResolvedProvider } from '@switchyard/catalog';
import { orderRoutes, planAttempts } from './route-plan';

function model(
  id: string,
  routes: Array<[string, string, number, number]>,
  fallbacks: string[] = [],
  kind: ResolvedModel['kind'] = 'chat',
): ResolvedModel {
  return {
    id,
    kind,
    ownedBy: 'x',
    names: [id],
    capabilities: {},
    priceSpec: {},
    price: parsePrice({}),
    routes: routes.map(([provider, m, priority, weight]) => ({ provider, model: m, priority, weight })),
    fallbacks,
    createdAt: new Date(0),
  };
}
const prov = (id: string, enabled = true): ResolvedProvider => ({
  id,
  kind: 'openai',
  baseUrl: `http://${id}`,
  timeoutMs: 1000,
  quirks: {},
  enabled,
});

describe('route plan', () => {
  const providers = new Map(['a', 'b', 'c', 'off'].map((id) => [id, prov(id, id !== 'off')]));
  const models = new Map<string, ResolvedModel>();
  const lookup = { find: (n: string) => models.get(n), provider: (id: string) => providers.get(id) };

  beforeEach(() => {
    models.clear();
    models.set(
      'main',
      model(
        'main',
        [
          ['b', 'main-b', 1, 1],
          ['a', 'main-a', 0, 1],
          ['off', 'main-off', 0, 1],
        ],
        ['fb', 'emb', 'missing', 'main'],
      ),
    );
    models.set('fb', model('fb', [['c', 'fb-c', 0, 1]]));
    models.set('emb', model('emb', [['a', 'emb-a', 0, 1]], [], 'embedding'));
  });

  it('tries routes by priority, skips disabled providers, then fallbacks of the same kind', () => {
    const plan = planAttempts(models.get('main')!, lookup, { allowed: () => true, rng: () => 0.5 });
    expect(plan.map((a) => [a.target.upstreamModel, a.depth])).toEqual([
      ['main-a', 0],
      ['main-b', 0],
      ['fb-c', 1],
    ]);
    expect(plan[0].target.baseUrl).toBe('http://a');
  });

  it('leaves out fallbacks the caller may not use', () => {
    const plan = planAttempts(models.get('main')!, lookup, { allowed: (m) => m.id !== 'fb' });
    expect(plan.map((a) => a.model.id)).toEqual(['main', 'main']);
  });

  it('spreads equal priorities by weight', () => {
    const routes = [
      { id: 'heavy', priority: 0, weight: 9 },
      { id: 'light', priority: 0, weight: 1 },
    ];
    let seed = 42;
    const rng = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let heavyFirst = 0;
    for (let i = 0; i < 10_000; i++) if (orderRoutes(routes, rng)[0].id === 'heavy') heavyFirst++;
    expect(heavyFirst / 10_000).toBeGreaterThan(0.87);
    expect(heavyFirst / 10_000).toBeLessThan(0.93);
  });
});
