import { modelView } from './model-view';
import type { ResolvedModel } from './catalog.service';

describe('modelView', () => {
  const model = {
    id: 'qwen3-vl-embedding-8b',
    kind: 'embedding',
    ownedBy: 'self-hosted-qwen',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    capabilities: { dimensions: 768, multimodal: true },
    priceSpec: { input_per_mtok: '0.05' },
  } as unknown as ResolvedModel;

  it('adds capabilities and pricing to the OpenAI model object', () => {
    expect(modelView(model, 'USD')).toMatchObject({
      id: 'qwen3-vl-embedding-8b',
      object: 'model',
      created: 1767225600,
      owned_by: 'self-hosted-qwen',
      capabilities: { kind: 'embedding', dimensions: 768, multimodal: true },
      pricing: { currency: 'USD', input_per_mtok: '0.05' },
    });
  });

  it('repeats the capabilities as mikan_capabilities, which seed 000 clients filter on', () => {
    const v = modelView(model, 'USD');
    expect(v.mikan_capabilities).toEqual({ kind: 'embedding', dimensions: 768, multimodal: true });
  });
});
