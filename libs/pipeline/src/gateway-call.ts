// What the gateway knows about one /v1 request as it goes: attached to the Express request, read once
// when the response closes to write the request's usage-log row.
import type { Request } from 'express';
import type { KeyContext } from '@switchyard/auth';
import type { ResolvedModel } from '@switchyard/catalog';
import type { MeteredUsage } from '@switchyard/catalog';

export type Endpoint =
  'chat.completions' | 'messages' | 'messages.count_tokens' | 'embeddings' | 'models' | 'usage' | 'credits' | 'other';

export interface GatewayCall {
  endpoint: Endpoint;
  key?: KeyContext;
  modelRequested?: string;
  modelUsed?: string;
  providerId?: string;
  usage?: MeteredUsage;
  /** resolves to the amount charged once settlement is done */
  charged?: Promise<bigint>;
  /**
   * Set once funds are held; resolves with `charged` when the request settles. A client that leaves
   * mid-stream closes the response before what it received is charged: its usage row waits for this.
   */
  settlement?: Promise<bigint>;
  settle?: (charged: Promise<bigint>) => void;
  stream: boolean;
  fallbackDepth: number;
  ttftMs?: number;
  served?: ResolvedModel;
  /** set by GatewayAuthGuard: whether the per-IP net and rpm already counted this request */
  limits?: { ipCounted: boolean; checked: boolean };
}

export type GatewayRequest = Request & { call?: GatewayCall };

export function callOf(req: Request, endpoint: Endpoint): GatewayCall {
  const r = req as GatewayRequest;
  r.call ??= { endpoint, stream: false, fallbackDepth: 0 };
  r.call.endpoint = endpoint;
  return r.call;
}

/** `x-client` (and the seed's `x-mikan-client`) tags the call in the usage log. */
export function clientLabel(req: Request): string | null {
  const v = req.headers['x-client'] ?? req.headers['x-mikan-client'];
  return typeof v === 'string' && v.length ? v.slice(0, 100) : null;
}
