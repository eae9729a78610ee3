// Deterministic unit-length embedding vectors: the SHA-256 of the input seeds a small PRNG, so the same
// text always gives the same vector and different texts give different ones.
import { createHash } from 'node:crypto';

const DEFAULT_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'qwen3-vl-embedding-8b': 768,
  'gemini-embedding-001': 3072,
  'text-embedding-004': 768,
};
const FALLBACK_DIMENSIONS = 256;
const MAX_DIMENSIONS = 16_384;

/**
 * Default size by model id; the last path segment counts, in any case, so `models/x`, `openai/x` and
 * Hugging Face ids such as `Qwen/Qwen3-VL-Embedding-8B` (what a vLLM server is asked for) work too.
 */
export function defaultDimensions(model: string): number {
  const id = (model.split('/').pop() ?? model).toLowerCase();
  return DEFAULT_DIMENSIONS[id] ?? FALLBACK_DIMENSIONS;
}

export function resolveDimensions(model: string, requested: unknown): number {
  if (typeof requested === 'number' && Number.isInteger(requested) && requested > 0) {
    return Math.min(requested, MAX_DIMENSIONS);
  }
  return defaultDimensions(model);
}

/** float32 values (as OpenAI computes them), normalised to length 1. */
export function embed(input: string, dimensions: number): Float32Array {
  const seed = createHash('sha256').update(input).digest();
  // xoshiro128** seeded from the hash: fast, and plenty for a demo
  let a = seed.readUInt32LE(0) | 1;
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  const out = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    const v = r / 0x1_0000_0000 - 0.5;
    out[i] = v;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dimensions; i++) out[i] *= scale;
  return out;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** OpenAI's `encoding_format: base64`: the float32 values, little-endian, base64-encoded. */
export function toBase64(vector: Float32Array): string {
  const buf = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i], i * 4);
  return buf.toString('base64');
}

export function toNumbers(vector: Float32Array): number[] {
  return Array.from(vector);
}

/** Token count of one embedding input: ceil(characters / 4), at least 1. */
export function inputTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
