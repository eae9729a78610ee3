import { join } from 'node:path';
import { CatalogFileError, parseCatalog, readCatalogFile, substituteEnv } from './catalog-file';

const DEFAULT = join(__dirname, '../../../catalog/default.yaml');

describe('catalog file', () => {
  it('substitutes ${NAME} and ${NAME:-default}', () => {
    expect(substituteEnv('a ${X} b ${Y:-dflt} c ${Z:-}', { X: 'x' })).toBe('a x b dflt c ');
    expect(substituteEnv('${X:-dflt}', { X: '' })).toBe('dflt');
  });

  it('loads the default catalog with no provider keys set (a fresh install)', () => {
    const c = readCatalogFile(DEFAULT, {});
    expect(c.providers.map((p) => p.id)).toEqual(expect.arrayContaining(['openai', 'anthropic', 'gemini', 'deepseek']));
    expect(c.providers.find((p) => p.id === 'openai')!.api_key ?? null).toBeNull();
    expect(c.providers.find((p) => p.id === 'openai')!.base_url).toBe('https://api.openai.com/v1');
    const ids = c.models.map((m) => m.id);
    for (const id of [
      'gpt-4o',
      'gpt-4o-mini',
      'claude-opus-4-7',
      'claude-sonnet-4-6',
      'claude-haiku-4-5',
      'gemini-3-pro',
      'gemini-3-flash',
      'deepseek-v3.2',
      'text-embedding-3-small',
      'text-embedding-3-large',
      'qwen3-vl-embedding-8b',
    ]) {
      expect(ids).toContain(id);
    }
  });

  it('gives every default model a provider/model alias, and the names the seeds use', () => {
    const c = readCatalogFile(DEFAULT, {});
    const names = new Map(c.models.flatMap((m) => [m.id, ...(m.aliases ?? [])].map((n) => [n, m.id] as const)));
    for (const m of c.models) expect((m.aliases ?? []).some((a) => a.includes('/'))).toBe(true);
    expect(names.get('anthropic/claude-sonnet-4.5')).toBe('claude-sonnet-4-6'); // seed 002
    expect(names.get('google/gemini-3-flash')).toBe('gemini-3-flash'); // seed 002
    expect(names.get('deepseek-chat')).toBe('deepseek-v3.2'); // seed 003
    expect(names.size).toBe(c.models.reduce((n, m) => n + 1 + (m.aliases?.length ?? 0), 0)); // no name twice
  });

  it('takes keys and base URLs from the environment', () => {
    const c = readCatalogFile(DEFAULT, { OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const p = c.providers.find((x) => x.id === 'openai')!;
    expect(p.api_key).toBe('sk-x');
    expect(p.base_url).toBe('http://127.0.0.1:9/v1');
  });

  it.each([
    ['a typo in a field', 'providers: [{ id: p, kind: openai, base_url: "http://x", timeout: 5 }]', /providers\.0/],
    ['an unknown kind', 'providers: [{ id: p, kind: azure, base_url: "http://x" }]', /kind/],
    [
      'a route to an unknown provider',
      'models: [{ id: m, kind: chat, owned_by: o, routes: [{ provider: nope, model: x }] }]',
      /unknown provider nope/,
    ],
    [
      'a bad price',
      'providers: [{ id: p, kind: openai, base_url: "http://x" }]\nmodels: [{ id: m, kind: chat, owned_by: o, price: { input_per_mtok: "1e3" }, routes: [{ provider: p, model: x }] }]',
      /input_per_mtok/,
    ],
    [
      'a duplicate alias',
      'providers: [{ id: p, kind: openai, base_url: "http://x" }]\nmodels: [{ id: m, kind: chat, owned_by: o, routes: [{ provider: p, model: x }] }, { id: n, kind: chat, owned_by: o, aliases: [m], routes: [{ provider: p, model: x }] }]',
      /used by m and n/,
    ],
    [
      'an unknown fallback',
      'providers: [{ id: p, kind: openai, base_url: "http://x" }]\nmodels: [{ id: m, kind: chat, owned_by: o, fallbacks: [zz], routes: [{ provider: p, model: x }] }]',
      /fallback zz/,
    ],
    ['not YAML', 'providers: [', /not valid YAML/],
  ])('refuses %s with the path of the problem', (_what, yaml, message) => {
    expect(() => parseCatalog(yaml, {})).toThrow(CatalogFileError);
    expect(() => parseCatalog(yaml, {})).toThrow(message);
  });
});
