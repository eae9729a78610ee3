// Validates values against a component schema of OpenAI's OpenAPI spec, for unit and e2e tests. The
// schemas come from test/fixtures/openai-spec/schemas.json: the part of the official spec the tests use
// (tools/openapi/extract-schemas.ts regenerates it from ../shared/specs/openai-openapi.yaml), so a clone
// alone runs the tests. Test-only: it loads ajv (a dev dependency).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

const SPEC_ID = 'https://switchyard.local/openai-openapi.json';
const SCHEMAS = path.resolve(__dirname, '../../test/fixtures/openai-spec/schemas.json');

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
  const file = JSON.parse(readFileSync(SCHEMAS, 'utf8')) as { schemas: Node };
  const schemas = file.schemas;
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
