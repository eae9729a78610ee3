// Test helper: a KeyContext with the given caps (null everywhere else).
import type { KeyContext, LimitSet } from '@switchyard/auth';

export const NO_CAPS: LimitSet = { rpm: null, tpm: null, daily_requests: null, daily_spend: null };

export function keyContext(
  ids: { keyId: string; workspaceId: string },
  keyLimits: Partial<LimitSet> = {},
  workspaceLimits: Partial<LimitSet> = {},
): KeyContext {
  return {
    keyId: ids.keyId,
    keyPrefix: 'sk-sy-test',
    workspaceId: ids.workspaceId,
    agentId: 'agent-test',
    keyLimits: { ...NO_CAPS, ...keyLimits },
    workspaceLimits: { ...NO_CAPS, ...workspaceLimits },
    allowlists: { agent: null, workspace: null, key: null },
  };
}
