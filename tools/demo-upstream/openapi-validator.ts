// Validates values against a component schema of OpenAI's OpenAPI spec (shared/specs/openai-openapi.yaml),
// for unit and e2e tests. Test-only: it loads ajv and yaml (dev dependencies) and a 3 MB file, once.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { parse } from 'yaml';

const SPEC_ID = 'https://switchyard.local/openai-openapi.json';

let explicitPath: string | undefined;

/** Points the validator at another copy of the spec (call before the first validation). */
export function useOpenAISpec(file: string): void {
  explicitPath = file;
}

/** The spec sits beside the repository (../shared/specs) or in it (specs/); the repo root is found from here or cwd. */
function specPath(): string {
  const roots = [path.resolve(__dirname, '../..'), path.resolve(__dirname, '../../..'), process.cwd()];
  const candidates = [
    explicitPath,
    ...roots.flatMap((r) => [
      path.join(r, 'specs/openai-openapi.yaml'),
      path.join(r, '../shared/specs/openai-openapi.yaml'),
    ]),
  ];
  const found = candidates.find((p): p is string => p !== undefined && existsSync(p));
  if (!found) throw new Error(`openai-openapi.yaml not found (looked in ${candidates.filter(Boolean).join(', ')})`);
  return found;
}

type Node = Record<string, unknown>;

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The spec says 3.1 but still carries OpenAPI 3.0 `nullable: true` (and two 2019-09 `$recursiveRef`s);
 * rewrite both into JSON Schema 2020-12 so Ajv reads them as the spec means.
 */
function normalise(node: unknown, component: string): unknown {
  if (Array.isArray(node)) return node.map((n) => normalise(n, component));
  if (!isNode(node)) return node;
  const out: Node = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$recursiveRef') out.$ref = `#/components/schemas/${component}`;
    else if (k !== '$recursiveAnchor' && k !== 'nullable') out[k] = normalise(v, component);
  }
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string' && out.$ref === undefined) {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function load(): Ajv2020 {
  if (ajv) return ajv;
  const spec = parse(readFileSync(specPath(), 'utf8'), { maxAliasCount: -1 }) as Node;
  const schemas = (isNode(spec.components) && isNode(spec.components.schemas) ? spec.components.schemas : {}) as Node;
  const normalised: Node = {};
  for (const [name, schema] of Object.entries(schemas)) normalised[name] = normalise(schema, name);
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
  ajv.addSchema({ $id: SPEC_ID, components: { schemas: normalised } });
  return ajv;
}

/** Errors of `value` against `#/components/schemas/<schemaName>`; empty when valid. */
export function validateOpenAI(schemaName: string, value: unknown): string[] {
  let validate = compiled.get(schemaName);
  if (!validate) {
    validate = load().getSchema(`${SPEC_ID}#/components/schemas/${schemaName}`);
    if (!validate) throw new Error(`no schema ${schemaName} in the OpenAI spec`);
    compiled.set(schemaName, validate);
  }
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`,
  );
}
