// CATALOG_FILE (DESIGN.md "Catalog file"): YAML with providers and models, `${NAME}` replaced by the
// environment variable NAME (`${NAME:-default}` when unset). Validated strictly: a typo stops start-up
// with the path of the bad field rather than silently serving a half catalog.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { parsePrice } from './pricing';

const decimal = z.string().regex(/^\d{1,12}(\.\d{1,9})?$/, 'a decimal string such as "0.15"');
const bool = z.boolean().optional();

export const providerSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, dot, dash, underscore'),
    kind: z.enum(['openai', 'anthropic', 'gemini']),
    base_url: z.url({ protocol: /^https?$/ }),
    // `${OPENAI_API_KEY}` with the variable unset leaves the field empty (YAML null): no key
    api_key: z.string().nullish(),
    timeout_ms: z.number().int().min(100).max(3_600_000).default(60_000),
    enabled: z.boolean().default(true),
    quirks: z
      .object({
        drop_params: z.array(z.string()).optional(),
        rename_params: z.record(z.string(), z.string()).optional(),
        no_stream_options: bool,
        supports_n: bool,
        headers: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const modelSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'letters, digits and . _ : / -'),
    kind: z.enum(['chat', 'embedding', 'image', 'speech', 'transcription', 'video', 'music']),
    owned_by: z.string().min(1),
    aliases: z.array(z.string().min(1)).default([]),
    capabilities: z
      .object({
        vision: bool,
        tools: bool,
        json_mode: bool,
        audio_input: bool,
        multimodal: bool,
        dimensions: z.number().int().positive().optional(),
        context_length: z.number().int().positive().optional(),
        max_output_tokens: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    price: z
      .object({
        input_per_mtok: decimal.optional(),
        cached_input_per_mtok: decimal.optional(),
        output_per_mtok: decimal.optional(),
        per_image: decimal.optional(),
        per_second: decimal.optional(),
        per_1k_chars: decimal.optional(),
        per_request: decimal.optional(),
      })
      .strict()
      .default({}),
    routes: z
      .array(
        z
          .object({
            provider: z.string().min(1),
            model: z.string().min(1),
            priority: z.number().int().min(0).default(0),
            weight: z.number().int().min(1).max(1000).default(1),
          })
          .strict(),
      )
      .min(1, 'a model needs at least one route'),
    fallbacks: z.array(z.string()).default([]),
    enabled: z.boolean().default(true),
  })
  .strict();

export const catalogFileSchema = z
  .object({ providers: z.array(providerSchema).default([]), models: z.array(modelSchema).default([]) })
  .strict();

export type CatalogFile = z.infer<typeof catalogFileSchema>;
export type ProviderInput = z.infer<typeof providerSchema>;
export type ModelInput = z.infer<typeof modelSchema>;

export class CatalogFileError extends Error {}

export function substituteEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def?: string) => {
    const v = env[name];
    return v !== undefined && v !== '' ? v : (def ?? '');
  });
}

/** Parses and checks a catalog: schema, unique ids, routes to known providers, known fallbacks. */
export function parseCatalog(
  yamlText: string,
  env: Readonly<Record<string, string | undefined>>,
  where = 'catalog',
): CatalogFile {
  let doc: unknown;
  try {
    doc = parse(substituteEnv(yamlText, env));
  } catch (e) {
    throw new CatalogFileError(`${where}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const parsed = catalogFileSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new CatalogFileError(`${where}: ${i.path.join('.')}: ${i.message}`);
  }
  const cat = parsed.data;
  const providerIds = new Set<string>();
  for (const p of cat.providers) {
    if (providerIds.has(p.id)) throw new CatalogFileError(`${where}: provider ${p.id} is listed twice`);
    providerIds.add(p.id);
  }
  const names = new Map<string, string>();
  for (const m of cat.models) {
    for (const name of [m.id, ...m.aliases]) {
      const owner = names.get(name);
      if (owner) throw new CatalogFileError(`${where}: model id or alias ${name} is used by ${owner} and ${m.id}`);
      names.set(name, m.id);
    }
    try {
      parsePrice(m.price);
    } catch (e) {
      throw new CatalogFileError(`${where}: model ${m.id}: price: ${(e as Error).message}`);
    }
  }
  for (const m of cat.models) {
    for (const r of m.routes) {
      if (!providerIds.has(r.provider))
        throw new CatalogFileError(`${where}: model ${m.id}: route to unknown provider ${r.provider}`);
    }
    for (const f of m.fallbacks) {
      if (!names.has(f))
        throw new CatalogFileError(`${where}: model ${m.id}: fallback ${f} is not a model of this catalog`);
    }
  }
  return cat;
}

export function readCatalogFile(path: string, env: Readonly<Record<string, string | undefined>>): CatalogFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CatalogFileError(
      `CATALOG_FILE ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  return parseCatalog(text, env, `CATALOG_FILE ${path}`);
}
