import { AdminPrincipal } from '@switchyard/tenancy';
import { SqlParams, adminConditions, decodeSummaryCursor, encodeSummaryCursor, resolveRange } from './usage-filters';

const agent = (agentId: string): AdminPrincipal => ({
  userId: 'u',
  email: 'a@x',
  role: 'agent',
  agentId,
  tokenId: 't',
  tokenKind: 'session',
});
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

describe('usage filters', () => {
  it('defaults to the last 30 UTC days up to now', () => {
    const now = new Date('2025-03-15T10:00:00Z');
    const r = resolveRange(undefined, undefined, now);
    expect(r.from.toISOString()).toBe('2025-02-14T00:00:00.000Z');
    expect(r.to).toBe(now);
    expect(() => resolveRange(new Date('2025-03-02'), new Date('2025-03-01'))).toThrow(/from/);
    expect(() => resolveRange(new Date('nope'), undefined)).toThrow(/valid date/);
  });

  it('round-trips the summary cursor and refuses anything else', () => {
    const c = encodeSummaryCursor({ date: '2025-03-01', model: 'gpt-4o' });
    expect(decodeSummaryCursor(c)).toEqual({ date: '2025-03-01', model: 'gpt-4o' });
    expect(decodeSummaryCursor(undefined)).toBeNull();
    expect(() => decodeSummaryCursor('abc')).toThrow(/cursor/);
    expect(() => decodeSummaryCursor(Buffer.from('["u","x","m"]').toString('base64url'))).toThrow(/cursor/);
  });

  it('always scopes an agent to its own agent_id, and sees nothing when it names another agent', () => {
    const range = resolveRange(undefined, undefined);
    const p = new SqlParams();
    const where = adminConditions(agent(A), { limit: 10, workspace_id: B }, range, p)!;
    expect(where).toContain('agent_id = $3');
    expect(p.values[2]).toBe(A);
    expect(where.some((w) => w.startsWith('created_at >='))).toBe(true);
    expect(adminConditions(agent(A), { limit: 10, agent_id: B }, range, new SqlParams())).toBeNull();
    expect(() => adminConditions(agent(A), { limit: 10, api_key_id: 'x' }, range, new SqlParams())).toThrow(/uuid/);
  });
});
