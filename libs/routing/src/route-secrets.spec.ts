import type { RouteTarget } from '@switchyard/providers';
import { redactBodyForRoute, redactForRoute, routeSecrets } from './route-secrets';

const target: RouteTarget = {
  providerId: 'qwen',
  kind: 'openai',
  baseUrl: 'http://gpubox:9001/tenant-a/v1',
  apiKey: 'plainroutekey',
  upstreamModel: 'qwen',
  timeoutMs: 1000,
};

describe('route secrets', () => {
  it("names the route's key, origin, host, hostname and path", () => {
    expect(routeSecrets(target)).toEqual(
      expect.arrayContaining(['plainroutekey', 'gpubox:9001', 'gpubox', '/tenant-a/v1']),
    );
    expect(routeSecrets({ ...target, apiKey: undefined, baseUrl: 'not a url' })).toEqual(['not a url']);
  });

  it('removes them from messages and bodies, where no pattern would have', () => {
    const leaky = 'gpubox refused plainroutekey on /tenant-a/v1/chat (GPUBOX:9001), see http://gpubox:9001/debug?k=1';
    const out = redactForRoute(leaky, target);
    for (const leak of ['gpubox', 'GPUBOX', 'plainroutekey', 'tenant-a', '9001', 'debug'])
      expect(out).not.toContain(leak);
    expect(redactBodyForRoute({ error: { message: 'bad key plainroutekey' } }, target)).toEqual({
      error: { message: 'bad key [redacted]' },
    });
  });
});
