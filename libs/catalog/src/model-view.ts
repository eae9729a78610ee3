// How a model looks on GET /v1/models: OpenAI's model object plus `capabilities` and `pricing`, and the
// same capabilities as `mikan_capabilities`, which clients written for seed 000's gateway filter on.
import type { ResolvedModel } from './catalog.service';

export interface ModelView {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  capabilities: Record<string, unknown>;
  mikan_capabilities: Record<string, unknown>;
  pricing: Record<string, string>;
}

export function modelView(m: ResolvedModel, currency: string): ModelView {
  const capabilities = { kind: m.kind, ...m.capabilities };
  return {
    id: m.id,
    object: 'model',
    created: Math.floor(m.createdAt.getTime() / 1000),
    owned_by: m.ownedBy,
    capabilities,
    mikan_capabilities: capabilities,
    pricing: { currency, ...(m.priceSpec as Record<string, string>) },
  };
}
