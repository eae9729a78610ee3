import type { AdminRole } from './entities/admin-user.entity';

/** Who is calling the admin API: resolved from a session or an agent API token on every request. */
export interface AdminPrincipal {
  userId: string;
  email: string;
  role: AdminRole;
  /** set for role 'agent': the only agent whose data this caller may see */
  agentId: string | null;
  tokenId: string;
  tokenKind: 'session' | 'api';
}

export function isPlatformAdmin(p: AdminPrincipal): boolean {
  return p.role === 'platform_admin';
}
