// How a model looks on GET /v1/models: OpenAI's model object plus `capabilities` and `pricing`.
import type { ResolvedModel } from './catalog.service';

export interface ModelView {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  capabilities: Record<string, unknown>;
  pricing: Record<string, string>;
}

export function modelView(m: ResolvedModel, currency: string): ModelView {
  return {
    id: m.id,
    object: 'model',
    created: Math.floor(m.createdAt.getTime() / 1000),
    owned_by: m.ownedBy,
    capabilities: { kind: m.kind, ...m.capabilities },
    pricing: { currency, ...(m.priceSpec as Record<string, string>) },
  };
}
