// Writes the part of OpenAI's OpenAPI spec the tests validate against (the named schemas and every
// schema they reference) to test/fixtures/openai-spec/schemas.json, so tests run from a clone alone.
// Run after updating ../shared/specs/openai-openapi.yaml:
//   npm run build && node dist/tools/openapi/extract-schemas.js [path/to/openai-openapi.yaml]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../demo/run-demo';

export const VALIDATED_SCHEMAS = [
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'CreateEmbeddingResponse',
  'ErrorResponse',
  'ListModelsResponse',
  'Model',
];

type Node = Record<string, unknown>;

function refsOf(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) for (const n of node) refsOf(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/'))
        out.add(v.slice('#/components/schemas/'.length));
      else refsOf(v, out);
    }
  }
}

function main(): void {
  const root = repoRoot();
  const source = process.argv[2] ?? join(root, '../shared/specs/openai-openapi.yaml');
  const spec = parse(readFileSync(source, 'utf8'), { maxAliasCount: -1 }) as {
    info?: { version?: string };
    components: { schemas: Node };
  };
  const all = spec.components.schemas;
  const keep = new Set<string>();
  const queue = [...VALIDATED_SCHEMAS];
  while (queue.length) {
    const name = queue.pop()!;
    if (keep.has(name) || !(name in all)) continue;
    keep.add(name);
    const refs = new Set<string>();
    refsOf(all[name], refs);
    // `$recursiveRef` points at the schema itself
    queue.push(...refs);
  }
  const schemas = Object.fromEntries([...keep].sort().map((n) => [n, all[n]]));
  const out = {
    source: 'https://github.com/openai/openai-openapi (MIT, see LICENSE)',
    version: spec.info?.version ?? null,
    schemas,
  };
  writeFileSync(join(root, 'test/fixtures/openai-spec/schemas.json'), JSON.stringify(out, null, 1) + '\n');
  process.stdout.write(`wrote ${keep.size} schemas\n`);
}

if (require.main === module) main();
