// The read side on real Postgres: GET /v1/usage aggregates (grouping, cursor, totals, exact decimal
// costs), the admin list's filters and agent scoping, and the CSV export.
import { GatewayError } from '@switchyard/core';
import { UsageRecord, UsageRow } from '@switchyard/usage';
import { freshDatabase } from '../../setup/test-db';
import {
  Tenants,
  UsageApp,
  adminPrincipal,
  agentPrincipal,
  seedTenants,
  startUsageApp,
  usageRecord,
} from './usage-harness';

jest.setTimeout(60_000);

const DAY = 86_400_000;
const todayUtc = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const at = (daysAgo: number, hour: number) => new Date(todayUtc - daysAgo * DAY + hour * 3_600_000);
const ymd = (daysAgo: number) => new Date(todayUtc - daysAgo * DAY).toISOString().slice(0, 10);

/** A small RFC 4180 reader for the test: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
  }
  return records;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of it) out.push(line);
  return out;
}

describe('UsageQueryService', () => {
  let dbInfo: Awaited<ReturnType<typeof freshDatabase>>;
  let u: UsageApp;
  let t: Tenants;
  let wsBig: string;
  const ids: Record<string, string> = {};

  const rec = (name: string, over: Partial<UsageRecord>) => {
    const r = usageRecord({ request_id: name, ...over });
    ids[name] = r.id;
    u.writer.record(r);
  };

  beforeAll(async () => {
    dbInfo = await freshDatabase();
    u = await startUsageApp(dbInfo.url);
    t = await seedTenants(u.db);
    const a = { agent_id: t.agentA, workspace_id: t.wsA, api_key_id: t.keyA };
    rec('a_d1_mini', {
      ...a,
      created_at: at(1, 12),
      input_tokens: 100,
      cached_input_tokens: 20,
      output_tokens: 50,
      cost: 600n,
    });
    rec('a_d1_mini_err', {
      ...a,
      created_at: at(1, 13),
      status: 500,
      error_code: 'upstream_error',
      input_tokens: 0,
      output_tokens: 0,
      cost: 0n,
    });
    rec('a_d1_fallback', {
      ...a,
      created_at: at(1, 14),
      model_requested: 'claude-sonnet',
      model_used: 'claude-haiku',
      fallback_depth: 1,
      input_tokens: 7,
      output_tokens: 3,
      cost: 1_500_000_000n,
    });
    rec('a_d2_mini', { ...a, created_at: at(2, 12), input_tokens: 1000, output_tokens: 10, cost: 2_000_000_000n });
    rec('a_d2_models', {
      ...a,
      created_at: at(2, 12.5),
      endpoint: 'models',
      model_requested: null,
      model_used: null,
      input_tokens: 0,
      output_tokens: 0,
      cost: 0n,
    });
    rec('a_d3_embed', {
      ...a,
      created_at: at(3, 12),
      endpoint: 'embeddings',
      model_requested: 'embed-small',
      model_used: null,
      input_tokens: 5,
      output_tokens: 0,
      cost: 123n,
    });
    rec('a_d40_old', { ...a, created_at: at(40, 12), cost: 999n });
    rec('a2_d1', { agent_id: t.agentA, workspace_id: t.wsA2, api_key_id: t.keyA2, created_at: at(1, 9), cost: 5n });
    rec('b_d1', { agent_id: t.agentB, workspace_id: t.wsB, api_key_id: t.keyB, created_at: at(1, 10), cost: 7n });
    // five rows at the same instant: the admin cursor must page through ties by id
    const recent = new Date(Math.max(todayUtc, Date.now() - 120_000)); // today, never in the future (the default range ends now)
    for (let i = 0; i < 5; i++)
      rec(`a2_tie_${i}`, { agent_id: t.agentA, workspace_id: t.wsA2, api_key_id: t.keyA2, created_at: recent });
    // labels that need CSV quoting, and a large workspace for a multi-page export
    const labels = ['a,b', 'say "hi"', 'line1\r\nline2', '=HYPERLINK("http://x")'];
    labels.forEach((client_label, i) =>
      rec(`b_label_${i}`, { agent_id: t.agentB, workspace_id: t.wsB, created_at: recent, client_label }),
    );
    [{ id: wsBig }] = (await u.db.query('INSERT INTO workspaces (agent_id, name) VALUES ($1, $2) RETURNING id', [
      t.agentB,
      'big',
    ])) as Array<{ id: string }>;
    for (let i = 0; i < 2500; i++) {
      u.writer.record(
        usageRecord({
          request_id: `big_${i}`,
          agent_id: t.agentB,
          workspace_id: wsBig,
          created_at: new Date(at(1, 0).getTime() + i * 1000),
        }),
      );
    }
    await u.writer.flush();
  });

  afterAll(async () => {
    await u?.app.close();
    await dbInfo?.drop();
  });

  describe('workspaceSummary (GET /v1/usage)', () => {
    it('groups by UTC day and model, newest day first, with exact decimal costs', async () => {
      const s = await u.query.workspaceSummary(t.wsA, { limit: 50 });
      expect(s.data).toEqual([
        {
          date: ymd(1),
          model: 'claude-haiku',
          requests: 1,
          errors: 0,
          input_tokens: 7,
          cached_input_tokens: 0,
          output_tokens: 3,
          cost: '1.50',
        },
        {
          date: ymd(1),
          model: 'gpt-4o-mini',
          requests: 2,
          errors: 1,
          input_tokens: 100,
          cached_input_tokens: 20,
          output_tokens: 50,
          cost: '0.000000600',
        },
        {
          date: ymd(2),
          model: null,
          requests: 1,
          errors: 0,
          input_tokens: 0,
          cached_input_tokens: 0,
          output_tokens: 0,
          cost: '0.00',
        },
        {
          date: ymd(2),
          model: 'gpt-4o-mini',
          requests: 1,
          errors: 0,
          input_tokens: 1000,
          cached_input_tokens: 0,
          output_tokens: 10,
          cost: '2.00',
        },
        {
          date: ymd(3),
          model: 'embed-small',
          requests: 1,
          errors: 0,
          input_tokens: 5,
          cached_input_tokens: 0,
          output_tokens: 0,
          cost: '0.000000123',
        },
      ]);
      expect(s.next_cursor).toBeNull();
      expect(s.totals).toEqual({
        requests: 6,
        errors: 1,
        input_tokens: 1112,
        cached_input_tokens: 20,
        output_tokens: 63,
        cost: '3.500000723',
      });
      expect(s.by_model).toEqual([
        { model: 'gpt-4o-mini', requests: 3, cost: '2.000000600' },
        { model: 'claude-haiku', requests: 1, cost: '1.50' },
        { model: 'embed-small', requests: 1, cost: '0.000000123' },
        { model: null, requests: 1, cost: '0.00' },
      ]);
      // the default range is the last 30 days: the 40-day-old row is not counted
      expect(Date.parse(s.from)).toBe(todayUtc - 29 * DAY);
    });

    it.each([1, 2, 3, 4])(
      'pages through the groups with next_cursor (limit %i), totals on every page',
      async (limit) => {
        const all = (await u.query.workspaceSummary(t.wsA, { limit: 50 })).data;
        const seen: typeof all = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await u.query.workspaceSummary(t.wsA, { limit, cursor });
          expect(page.data.length).toBeLessThanOrEqual(limit);
          expect(page.totals.cost).toBe('3.500000723');
          seen.push(...page.data);
          if (!page.next_cursor) break;
          cursor = page.next_cursor;
        }
        expect(seen).toEqual(all);
      },
    );

    it('filters by model and by range; a wider range includes older days', async () => {
      const mini = await u.query.workspaceSummary(t.wsA, { limit: 50, model: 'gpt-4o-mini' });
      expect(mini.data.map((g) => g.date)).toEqual([ymd(1), ymd(2)]);
      expect(mini.totals).toMatchObject({ requests: 3, cost: '2.000000600' });
      const wide = await u.query.workspaceSummary(t.wsA, { limit: 50, from: new Date(todayUtc - 60 * DAY) });
      expect(wide.data[wide.data.length - 1]).toMatchObject({
        date: ymd(40),
        model: 'gpt-4o-mini',
        cost: '0.000000999',
      });
      expect(wide.totals.cost).toBe('3.500001722');
      const oneDay = await u.query.workspaceSummary(t.wsA, { limit: 50, from: at(2, 0), to: at(1, 0) });
      expect(oneDay.data.map((g) => g.model)).toEqual([null, 'gpt-4o-mini']);
    });

    it('sees only the given workspace', async () => {
      const s = await u.query.workspaceSummary(t.wsB, { limit: 50 });
      expect(s.totals.requests).toBe(5);
      expect(s.data.every((g) => g.model === 'gpt-4o-mini')).toBe(true);
    });

    it('rejects a foreign cursor and an inverted range as bad_request', async () => {
      await expect(u.query.workspaceSummary(t.wsA, { limit: 5, cursor: 'nope' })).rejects.toMatchObject({
        code: 'bad_request',
        param: 'cursor',
      });
      await expect(u.query.workspaceSummary(t.wsA, { limit: 5, from: at(1, 0), to: at(2, 0) })).rejects.toBeInstanceOf(
        GatewayError,
      );
    });
  });

  describe('adminList (GET /admin/api/usage)', () => {
    const list = (p = adminPrincipal(), q: Parameters<UsageApp['query']['adminList']>[1]) => u.query.adminList(p, q);

    it('shows an agent only its own rows, even when it filters by another agent’s workspace or id', async () => {
      const mine = await list(agentPrincipal(t.agentA), { limit: 100 });
      expect(mine.data.length).toBe(6 + 1 + 5); // wsA in range, wsA2, the ties
      expect(mine.data.every((r) => r.agent_id === t.agentA)).toBe(true);
      expect(await list(agentPrincipal(t.agentA), { limit: 100, workspace_id: t.wsB })).toEqual({
        data: [],
        next_cursor: null,
      });
      expect(await list(agentPrincipal(t.agentA), { limit: 100, agent_id: t.agentB })).toEqual({
        data: [],
        next_cursor: null,
      });
      expect(await list(agentPrincipal(t.agentA), { limit: 100, api_key_id: t.keyB })).toEqual({
        data: [],
        next_cursor: null,
      });
      const admin = await list(adminPrincipal(), { limit: 100, workspace_id: t.wsB });
      expect(admin.data.map((r) => r.request_id).sort()).toEqual([
        'b_d1',
        'b_label_0',
        'b_label_1',
        'b_label_2',
        'b_label_3',
      ]);
    });

    it('returns amounts as decimal strings and timestamps as ISO', async () => {
      const { data } = await list(adminPrincipal(), {
        limit: 10,
        workspace_id: t.wsA,
        endpoint: 'chat.completions',
        status: 'ok',
        model: 'claude-sonnet',
      });
      expect(data).toHaveLength(1);
      expect(data[0]).toMatchObject<Partial<UsageRow>>({
        id: ids.a_d1_fallback,
        created_at: at(1, 14).toISOString(),
        model_requested: 'claude-sonnet',
        model_used: 'claude-haiku',
        cost: '1.50',
        fallback_depth: 1,
      });
    });

    it('filters by status, endpoint, key and range', async () => {
      const p = agentPrincipal(t.agentA);
      const ids2 = async (q: Omit<Parameters<UsageApp['query']['adminList']>[1], 'limit'>) =>
        (await list(p, { limit: 100, ...q })).data.map((r) => r.request_id);
      expect(await ids2({ status: 'error' })).toEqual(['a_d1_mini_err']);
      expect(await ids2({ status: 500 })).toEqual(['a_d1_mini_err']);
      expect(await ids2({ endpoint: 'models' })).toEqual(['a_d2_models']);
      expect(await ids2({ api_key_id: t.keyA2, from: at(1, 0), to: at(0, 0) })).toEqual(['a2_d1']);
      expect(await ids2({ workspace_id: t.wsA, from: at(60, 0) })).toContain('a_d40_old');
      expect(await ids2({})).not.toContain('a_d40_old');
    });

    it('pages newest first over (created_at, id), through rows with the same created_at', async () => {
      const all = (await list(adminPrincipal(), { limit: 100, workspace_id: t.wsA2 })).data;
      expect(all).toHaveLength(6);
      const seen: UsageRow[] = [];
      let cursor: string | undefined;
      do {
        const page = await list(adminPrincipal(), { limit: 2, workspace_id: t.wsA2, cursor });
        seen.push(...page.data);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(seen.map((r) => r.id)).toEqual(all.map((r) => r.id));
      expect(new Set(seen.map((r) => r.id)).size).toBe(6);
      const ties = seen.filter((r) => r.request_id.startsWith('a2_tie_')).map((r) => r.id);
      expect(ties).toEqual([...ties].sort().reverse());
    });

    it('answers bad_request for a malformed id filter or cursor', async () => {
      await expect(list(adminPrincipal(), { limit: 5, workspace_id: 'nope' })).rejects.toMatchObject({
        code: 'bad_request',
        param: 'workspace_id',
      });
      await expect(list(adminPrincipal(), { limit: 5, cursor: 'nope' })).rejects.toMatchObject({
        code: 'bad_request',
        param: 'cursor',
      });
    });
  });

  describe('adminCsv', () => {
    it('writes a header and quotes fields per RFC 4180, defusing formulas', async () => {
      const lines = await collect(u.query.adminCsv(adminPrincipal(), { workspace_id: t.wsB }));
      const text = lines.join('');
      expect(lines[0]).toBe(
        'id,created_at,request_id,agent_id,workspace_id,api_key_id,endpoint,model_requested,model_used,provider_id,status,error_code,' +
          'input_tokens,cached_input_tokens,output_tokens,cost,latency_ms,ttft_ms,stream,client_label,fallback_depth,client_ip\r\n',
      );
      expect(text).toContain(',"a,b",');
      expect(text).toContain(',"say ""hi""",');
      expect(text).toContain(',"line1\r\nline2",');
      const records = parseCsv(text);
      expect(records).toHaveLength(6);
      const header = records[0];
      const byRequest = Object.fromEntries(records.slice(1).map((r) => [r[header.indexOf('request_id')], r]));
      const label = (name: string) => byRequest[name][header.indexOf('client_label')];
      expect(label('b_label_0')).toBe('a,b');
      expect(label('b_label_1')).toBe('say "hi"');
      expect(label('b_label_2')).toBe('line1\r\nline2');
      expect(label('b_label_3')).toBe(`'=HYPERLINK("http://x")`);
      expect(byRequest.b_d1[header.indexOf('cost')]).toBe('0.000000007');
      expect(byRequest.b_d1[header.indexOf('error_code')]).toBe('');
      expect(records.every((r) => r.length === header.length)).toBe(true);
    });

    it('streams more rows than one page, one query per page of 1,000', async () => {
      const spy = jest.spyOn(u.db, 'query');
      let rows = 0;
      const seen = new Set<string>();
      for await (const line of u.query.adminCsv(agentPrincipal(t.agentB), { workspace_id: wsBig })) {
        if (rows++ === 0) continue;
        seen.add(line.slice(0, 36));
      }
      const selects = spy.mock.calls.filter(([sql]) => /FROM usage_log/.test(sql)).length;
      spy.mockRestore();
      expect(rows).toBe(2501);
      expect(seen.size).toBe(2500);
      expect(selects).toBe(3);
    });

    it('applies the agent scope, and rejects a bad filter before the first line', async () => {
      expect(await collect(u.query.adminCsv(agentPrincipal(t.agentA), { workspace_id: wsBig }))).toHaveLength(1);
      expect(() => u.query.adminCsv(adminPrincipal(), { agent_id: 'x' })).toThrow(GatewayError);
    });
  });

  it('bounds created_at so only the months asked for are scanned, through the agent and workspace indexes', async () => {
    const next = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1));
    const nextPartition = `usage_log_${next.toISOString().slice(0, 4)}_${next.toISOString().slice(5, 7)}`;
    const explain = async (run: () => Promise<unknown>): Promise<string> => {
      const spy = jest.spyOn(u.db, 'query');
      await run();
      const [sql, params] = spy.mock.calls[spy.mock.calls.length - 1];
      spy.mockRestore();
      // seq scans off: proves the query's shape lets the index serve (a tiny test table would pick a seq scan anyway)
      return u.db.transaction(async (m) => {
        await m.query('SET LOCAL enable_seqscan = off');
        const rows = (await m.query(`EXPLAIN ${sql}`, params)) as Array<{ 'QUERY PLAN': string }>;
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    };
    const range = { from: at(3, 0), to: new Date() };
    const agentPlan = await explain(() => u.query.adminList(agentPrincipal(t.agentA), { limit: 10, ...range }));
    expect(agentPlan).toMatch(/agent_id_created_at_idx/);
    expect(agentPlan).not.toContain(nextPartition);
    const wsPlan = await explain(() => u.query.workspaceSummary(t.wsA, { limit: 10, ...range }));
    expect(wsPlan).toMatch(/workspace_id_created_at_idx/);
    expect(wsPlan).not.toContain(nextPartition);
  });
});
