// Model access for one caller: the intersection of its agent's, workspace's and key's allowlists,
// evaluated in memory from the key context (no I/O on the request path).
import { Injectable } from '@nestjs/common';
import { GatewayError } from '@switchyard/core';
import type { KeyContext } from '@switchyard/auth';
import { CatalogService, ResolvedModel } from '@switchyard/catalog';
import { allowedByAll, isValidPattern, patternsOutside } from './allowlist';

@Injectable()
export class AllowlistsService {
  constructor(private readonly catalog: CatalogService) {}

  allows(key: KeyContext, model: ResolvedModel): boolean {
    const a = key.allowlists;
    return allowedByAll([a.agent, a.workspace, a.key], model.names);
  }

  /** 403 model_not_allowed unless every level admits the model. */
  assertAllowed(key: KeyContext, model: ResolvedModel, requestedName: string): void {
    if (!this.allows(key, model)) {
      throw new GatewayError(
        'model_not_allowed',
        `The model '${requestedName}' is not allowed for this API key.`,
        'model',
      );
    }
  }

  /**
   * Checks a list an admin wants to set below an agent: valid patterns, and none outside the agent's own
   * allowlist (an agent cannot grant what it was not granted; a catalog model may be named by any of its
   * names). Returns the normalised list (null = none).
   */
  validateGrant(
    requested: string[] | null | undefined,
    agentAllowlist: string[] | null,
    param = 'models',
  ): string[] | null {
    if (!requested || requested.length === 0) return null;
    const list = [...new Set(requested.map((s) => s.trim()))];
    const bad = list.find((p) => !isValidPattern(p));
    if (bad !== undefined) throw new GatewayError('bad_request', `'${bad}' is not a model name or pattern`, param);
    const outside = patternsOutside(agentAllowlist, list, (name) => this.catalog.find(name)?.names);
    if (outside.length) {
      throw new GatewayError('model_not_allowed', `Outside the agent's own allowlist: ${outside.join(', ')}`, param);
    }
    return list;
  }
}
