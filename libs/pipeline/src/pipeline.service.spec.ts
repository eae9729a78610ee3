// How the pipeline sizes a request's reservation: the worst case over the route plan, n choices, the
// context window, and the output cap when the client gave no max_tokens. Fakes around the pure logic.
import type { Request } from 'express';
import type { KeyContext } from '@switchyard/auth';
import { CatalogService, ResolvedModel, costOf, parsePrice } from '@switchyard/catalog';
import type { AllowlistsService } from '@switchyard/allowlists';
import type { LimitsService } from '@switchyard/limits';
import type { Logger } from '@switchyard/core';
import type { WalletLeasesService } from '@switchyard/wallets';
import type { GatewayCall } from './gateway-call';
import { AdmitInput, GatewayPipeline } from './pipeline.service';

const model: ResolvedModel = {
  id: 'm',
  kind: 'chat',
  ownedBy: 'openai',
  names: ['m'],
  capabilities: { context_length: 1_000, max_output_tokens: 500 },
  priceSpec: { input_per_mtok: '1', output_per_mtok: '4' },
  price: parsePrice({ input_per_mtok: '1', output_per_mtok: '4' }),
  routes: [{ provider: 'p', model: 'up', priority: 0, weight: 1 }],
  fallbacks: [],
  createdAt: new Date(0),
} as unknown as ResolvedModel;

/** A pipeline whose lease grants at most `budget` for a reservation; records what was asked. */
function pipeline(budget = 10n ** 15n) {
  const asked: Array<{ worst: bigint; minimum: bigint }> = [];
  const limited: Array<{ tokens: number; spend: bigint }> = [];
  const catalog = {
    find: () => undefined,
    provider: () => ({ id: 'p', enabled: true, kind: 'openai', baseUrl: 'http://x', apiKey: null, timeoutMs: 1 }),
  } as unknown as CatalogService;
  const allowlists = { assertAllowed: () => undefined, allows: () => true } as unknown as AllowlistsService;
  const limits = {
    check: (_k: unknown, _ip: string, o: { admission: { tokens: number; spend: bigint } }) => {
      limited.push(o.admission);
      return Promise.resolve({ headers: {} });
    },
  } as unknown as LimitsService;
  const leases = {
    reserve: (_ws: string, worst: bigint, minimum: bigint) => {
      asked.push({ worst, minimum });
      const amount = worst < budget ? worst : budget;
      return Promise.resolve({ lease: {}, amount, done: false });
    },
  } as unknown as WalletLeasesService;
  const p = new GatewayPipeline(catalog, allowlists, limits, leases, { error: () => undefined } as unknown as Logger);
  const admit = (i: Partial<AdmitInput>) =>
    p.admit({
      req: { id: 'r', ip: '127.0.0.1' } as Request,
      call: { endpoint: 'chat.completions', stream: false, fallbackDepth: 0 } as GatewayCall,
      key: { workspaceId: 'w' } as KeyContext,
      model,
      requestedName: 'm',
      inputTokens: 100,
      clientMaxOutput: null,
      ...i,
    });
  return { admit, asked, limited };
}

const cost = (inputTokens: number, outputTokens: number) => costOf(model.price, { inputTokens, outputTokens });

describe('the worst case of a request', () => {
  it('is what the limits check sets aside against tpm and daily spend, n choices included', async () => {
    const { admit, limited } = pipeline();
    await admit({ clientMaxOutput: 100, choices: 4 });
    expect(limited[0]).toEqual({ tokens: 100 + 400, spend: cost(100, 400) });
  });

  it('is the input plus the output limit of every one of its n choices', async () => {
    const { admit, asked } = pipeline();
    await admit({ clientMaxOutput: 100, choices: 4 });
    expect(asked[0]).toEqual({ worst: cost(100, 400), minimum: cost(100, 400) });
    await admit({ clientMaxOutput: 100 });
    expect(asked[1].worst).toBe(cost(100, 100));
  });

  it("without max_tokens: the model's output limit per choice, and at least one token for each", async () => {
    const { admit, asked } = pipeline();
    const adm = await admit({ choices: 3 });
    expect(asked[0]).toEqual({ worst: cost(100, 1_500), minimum: cost(100, 3) });
    expect(adm.outputCap).toBeNull(); // the reservation covers it all
  });

  it('caps each choice at its share of what the reservation pays for', async () => {
    // the lease grants enough for the input and 1,000 output tokens: 250 for each of 4 choices
    const { admit } = pipeline(cost(100, 1_000));
    expect((await admit({ choices: 4 })).outputCap).toBe(250);
    expect((await admit({ choices: 1 })).outputCap).toBeNull(); // one choice of 500 at most: covered
  });

  it("counts no more input than the model's context window can hold", async () => {
    const { admit, asked } = pipeline();
    await admit({ inputTokens: 50_000, clientMaxOutput: 10 });
    expect(asked[0].worst).toBe(cost(1_000, 10));
    // embeddings are not capped: an array of inputs may exceed one context window
    await admit({ inputTokens: 50_000, noOutput: true });
    expect(asked[1].worst).toBe(cost(50_000, 0));
  });
});
