// JSON Schemas for Gemini's `parametersJsonSchema` / `responseJsonSchema` fields (Gemini 2.5+).
// Those fields take real JSON Schema (additionalProperties, anyOf, $ref, type arrays), unlike the older
// OpenAPI-subset `parameters` / `responseSchema`; the API still answers 400 "Unknown name" for `$schema`,
// and OpenAI's `strict` flag is not a schema keyword at all, so only those are removed.
import { isRecord } from './upstream';

const DROPPED_KEYWORDS = new Set(['$schema', 'strict']);

/** keywords whose value is a map of name -> schema (the names are data, never keywords) */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** keywords whose value is one schema */
const SCHEMA_VALUES = new Set([
  'items',
  'additionalProperties',
  'additionalItems',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
]);
/** keywords whose value is a list of schemas */
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);

/** A copy of `schema` without the keywords Gemini rejects; values such as enum, const and default are untouched. */
export function toGeminiJsonSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, sub(s)]));
    } else if (SCHEMA_VALUES.has(key)) {
      // `items` may be a list (draft 4 tuples); booleans are valid schemas and pass as they are.
      out[key] = Array.isArray(value) ? value.map(sub) : sub(value);
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(sub);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function sub(value: unknown): unknown {
  return isRecord(value) ? toGeminiJsonSchema(value) : value;
}
