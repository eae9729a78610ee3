// Prices and cost, exact: prices are decimal strings in the catalog, bigint nanos here. A request's
// cost is the exact sum of its parts, rounded up once to a whole nano (DESIGN.md "Money").
import { ceilDiv, parseAmount } from '@switchyard/core';

/** As written in the catalog file and the admin API: decimal strings in currency units. */
export interface PriceSpec {
  input_per_mtok?: string;
  cached_input_per_mtok?: string;
  output_per_mtok?: string;
  per_image?: string;
  per_second?: string;
  per_1k_chars?: string;
  per_request?: string;
}

/** The same prices as nanos per unit (per million tokens, per image, ...). */
export interface Price {
  inputPerMtok: bigint;
  cachedInputPerMtok: bigint;
  outputPerMtok: bigint;
  perImage: bigint;
  perSecond: bigint;
  per1kChars: bigint;
  perRequest: bigint;
}

export interface MeteredUsage {
  inputTokens: number; // includes cached input tokens
  cachedInputTokens?: number;
  outputTokens: number;
  images?: number;
  /** audio or video duration in whole milliseconds: exact, so per-second prices round once with the rest */
  milliseconds?: number;
  chars?: number;
}

const PRICE_KEYS: Array<keyof PriceSpec> = [
  'input_per_mtok',
  'cached_input_per_mtok',
  'output_per_mtok',
  'per_image',
  'per_second',
  'per_1k_chars',
  'per_request',
];

export function parsePrice(spec: PriceSpec): Price {
  for (const k of Object.keys(spec)) {
    if (!PRICE_KEYS.includes(k as keyof PriceSpec)) throw new Error(`unknown price field ${k}`);
  }
  const p = (v: string | undefined) => {
    if (v === undefined) return 0n;
    const n = parseAmount(v);
    if (n < 0n) throw new Error('prices cannot be negative');
    return n;
  };
  const input = p(spec.input_per_mtok);
  return {
    inputPerMtok: input,
    // cached input is billed at the input price unless the model has its own cached price
    cachedInputPerMtok: spec.cached_input_per_mtok === undefined ? input : p(spec.cached_input_per_mtok),
    outputPerMtok: p(spec.output_per_mtok),
    perImage: p(spec.per_image),
    perSecond: p(spec.per_second),
    per1kChars: p(spec.per_1k_chars),
    perRequest: p(spec.per_request),
  };
}

const MILLION = 1_000_000n;

/**
 * Exact cost in nanos. Everything is summed in millionths of a nano (token prices are per million;
 * characters per thousand and seconds per thousand milliseconds, scaled by 1000 to share the
 * denominator), then rounded up once.
 */
export function costOf(price: Price, u: MeteredUsage): bigint {
  const cached = BigInt(Math.min(u.cachedInputTokens ?? 0, u.inputTokens));
  const uncached = BigInt(u.inputTokens) - cached;
  const micro =
    uncached * price.inputPerMtok +
    cached * price.cachedInputPerMtok +
    BigInt(u.outputTokens) * price.outputPerMtok +
    BigInt(u.chars ?? 0) * price.per1kChars * 1000n +
    BigInt(u.milliseconds ?? 0) * price.perSecond * 1000n +
    (BigInt(u.images ?? 0) * price.perImage + price.perRequest) * MILLION;
  return ceilDiv(micro, MILLION);
}

/** How many output tokens `budget` nanos pay for once the input is paid (0 when it does not). */
export function affordableOutputTokens(price: Price, inputTokens: number, budget: bigint): number {
  const fixed = costOf(price, { inputTokens, outputTokens: 0 });
  if (budget <= fixed) return 0;
  if (price.outputPerMtok === 0n) return Number.MAX_SAFE_INTEGER;
  const tokens = ((budget - fixed) * MILLION) / price.outputPerMtok;
  return tokens > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(tokens);
}

export function isFree(price: Price): boolean {
  return Object.values(price).every((v) => v === 0n);
}
