/** Limits of one scope (key or workspace); null means no cap at that scope. */
export interface LimitSet {
  rpm: number | null;
  tpm: number | null;
  daily_requests: number | null;
  /** nanos per UTC day */
  daily_spend: bigint | null;
}

/**
 * Everything the /v1 pipeline needs to know about the caller, loaded in one query and cached in memory
 * so a warm key costs no database round trip.
 */
export interface KeyContext {
  keyId: string;
  keyPrefix: string;
  workspaceId: string;
  agentId: string;
  keyLimits: LimitSet;
  workspaceLimits: LimitSet;
  allowlists: { agent: string[] | null; workspace: string[] | null; key: string[] | null };
}
