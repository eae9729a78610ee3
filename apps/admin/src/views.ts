// How admin records look in JSON: snake_case, amounts as decimal strings, times ISO 8601.
import type { ApiKey } from '@switchyard/auth';
import { formatAmount } from '@switchyard/core';
import type { Agent, Workspace } from '@switchyard/tenancy';

const amount = (v: bigint | null) => (v === null ? null : formatAmount(v));

export function agentView(a: Agent, email?: string | null) {
  return {
    id: a.id,
    object: 'agent',
    name: a.name,
    email: email ?? undefined,
    allowlist: a.allowlist,
    created_at: a.created_at.toISOString(),
    updated_at: a.updated_at.toISOString(),
  };
}

export function workspaceView(w: Workspace) {
  return {
    id: w.id,
    object: 'workspace',
    agent_id: w.agent_id,
    name: w.name,
    rpm: w.rpm,
    tpm: w.tpm,
    daily_requests: w.daily_requests,
    daily_spend: amount(w.daily_spend),
    storage_limit_bytes: w.storage_limit_bytes === null ? null : Number(w.storage_limit_bytes),
    allowlist: w.allowlist,
    created_at: w.created_at.toISOString(),
    updated_at: w.updated_at.toISOString(),
  };
}

export function keyView(k: ApiKey) {
  const now = Date.now();
  const status = k.revoked_at ? 'revoked' : k.expires_at && k.expires_at.getTime() <= now ? 'expired' : 'active';
  return {
    id: k.id,
    object: 'api_key',
    workspace_id: k.workspace_id,
    name: k.name,
    prefix: k.prefix,
    status,
    rpm: k.rpm,
    tpm: k.tpm,
    daily_requests: k.daily_requests,
    daily_spend: amount(k.daily_spend),
    allowlist: k.allowlist,
    expires_at: k.expires_at?.toISOString() ?? null,
    revoked_at: k.revoked_at?.toISOString() ?? null,
    last_used_at: k.last_used_at?.toISOString() ?? null,
    created_at: k.created_at.toISOString(),
  };
}
