import { GatewayError } from '@switchyard/core';
import type { AppConfig, MetricsService } from '@switchyard/core';
import { AdapterRequestError, TransportError } from '@switchyard/providers';
import type { Attempt } from './route-plan';
import { UpstreamRouter } from './upstream-router.service';

const router = new UpstreamRouter(
  { upstreamConnectTimeoutMs: 1000 } as AppConfig,
  { fallbacks: { inc: () => undefined } } as unknown as MetricsService,
);
const attempts = [
  { depth: 0, model: { id: 'primary' } },
  { depth: 1, model: { id: 'backup' } },
] as unknown as Attempt[];
const live = new AbortController().signal;

describe('UpstreamRouter.tryEach', () => {
  afterAll(() => router.onApplicationShutdown());

  it('reports the outage, not a 400, when the primary failed and a fallback could not express the request', async () => {
    const e = await router
      .tryEach(attempts, live, (a) => {
        if (a.depth === 0) throw new TransportError('upstream_error', 'the upstream provider could not be reached');
        throw new AdapterRequestError('this upstream has no server tools');
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).code).toBe('upstream_error');
  });

  it('answers 400 bad_request when no route could express the request', async () => {
    const e = await router
      .tryEach(attempts, live, () => {
        throw new AdapterRequestError('no upstream takes this block', 'messages[0].content');
      })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'bad_request', param: 'messages[0].content' });
  });

  it('goes on to the fallback when the primary cannot express the request', async () => {
    const served = await router.tryEach(attempts, live, async (a) => {
      if (a.depth === 0) throw new AdapterRequestError('not here');
      return { attempt: a };
    });
    expect(served.attempt.depth).toBe(1);
  });
});
