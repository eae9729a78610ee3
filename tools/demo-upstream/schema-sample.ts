// Deterministic sample values from a JSON Schema (tool arguments, JSON-mode replies): strings "demo",
// numbers 1, booleans true, enums their first value, arrays one item, every declared property.
// Also reads Gemini's OpenAPI-subset schemas (upper-case types, `nullable`).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

const MAX_DEPTH = 8;

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A sample value that validates against `schema` for the common keywords. */
export function sampleFromSchema(schema: unknown): Json {
  return sample(schema, isSchema(schema) ? schema : {}, 0);
}

function sample(node: unknown, root: Schema, depth: number): Json {
  if (node === true || node === undefined) return 'demo';
  if (!isSchema(node)) return null;
  if (depth > MAX_DEPTH) return null;
  const s = resolveRef(node, root);

  if ('const' in s) return s.const as Json;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0] as Json;
  if ('default' in s && s.default !== undefined) return s.default as Json;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = s[key];
    if (Array.isArray(options) && options.length > 0) {
      const pick = options.find((o) => !(isSchema(o) && o.type === 'null')) ?? options[0];
      return sample(pick, root, depth + 1);
    }
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged: Schema = {};
    for (const part of s.allOf) if (isSchema(part)) Object.assign(merged, resolveRef(part, root));
    return sample(merged, root, depth + 1);
  }

  switch (typeOf(s)) {
    case 'string':
      return sampleString(s);
    case 'integer':
      return clampNumber(s, true);
    case 'number':
      return clampNumber(s, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return sampleArray(s, root, depth);
    case 'object':
      return sampleObject(s, root, depth);
  }
}

function typeOf(s: Schema): 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'array' | 'object' {
  const raw = Array.isArray(s.type) ? (s.type.find((t) => String(t).toLowerCase() !== 'null') ?? 'null') : s.type;
  const t = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (t === 'string' || t === 'integer' || t === 'number' || t === 'boolean' || t === 'null' || t === 'array') {
    return t;
  }
  if (t === 'object' || s.properties || s.required) return 'object';
  if (s.items || s.prefixItems) return 'array';
  return 'string';
}

function resolveRef(s: Schema, root: Schema): Schema {
  let cur = s;
  for (let hops = 0; typeof cur.$ref === 'string' && hops < MAX_DEPTH; hops++) {
    const ref: string = cur.$ref;
    if (!ref.startsWith('#')) break;
    let target: unknown = root;
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      target = isSchema(target) ? target[key] : undefined;
    }
    if (!isSchema(target)) break;
    const siblings: Schema = { ...cur };
    delete siblings.$ref;
    cur = { ...target, ...siblings };
  }
  return cur;
}

function sampleString(s: Schema): string {
  switch (s.format) {
    case 'date-time':
      return '2025-01-01T00:00:00Z';
    case 'date':
      return '2025-01-01';
    case 'email':
      return 'demo@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/demo';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
  }
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  let out = 'demo';
  while (out.length < min) out += 'demo';
  return out.slice(0, Math.max(min, Math.min(out.length, max)));
}

function clampNumber(s: Schema, integer: boolean): number {
  let n = 1;
  if (typeof s.minimum === 'number' && n < s.minimum) n = s.minimum;
  if (typeof s.exclusiveMinimum === 'number' && n <= s.exclusiveMinimum) n = s.exclusiveMinimum + 1;
  if (typeof s.maximum === 'number' && n > s.maximum) n = s.maximum;
  if (typeof s.exclusiveMaximum === 'number' && n >= s.exclusiveMaximum) n = s.exclusiveMaximum - 1;
  return integer ? Math.ceil(n) : n;
}

function sampleArray(s: Schema, root: Schema, depth: number): Json[] {
  const out: Json[] = Array.isArray(s.prefixItems) ? s.prefixItems.map((p) => sample(p, root, depth + 1)) : [];
  const min = Math.max(typeof s.minItems === 'number' ? s.minItems : 1, out.length);
  const items = s.items === false ? undefined : s.items;
  while (out.length < min && items !== undefined) out.push(sample(items, root, depth + 1));
  if (out.length === 0 && s.items === undefined) out.push('demo');
  return out;
}

function sampleObject(s: Schema, root: Schema, depth: number): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  const props = isSchema(s.properties) ? s.properties : {};
  for (const [key, prop] of Object.entries(props)) out[key] = sample(prop, root, depth + 1);
  // required names without a declared property still have to be present
  if (Array.isArray(s.required)) {
    for (const key of s.required) {
      if (typeof key === 'string' && !(key in out)) {
        out[key] = isSchema(s.additionalProperties) ? sample(s.additionalProperties, root, depth + 1) : 'demo';
      }
    }
  }
  return out;
}
