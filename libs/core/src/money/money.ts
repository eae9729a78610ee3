// Money on the ledger: bigint amounts of 10^-9 currency units ("nanos"). No floating point, ever.
// In JSON, amounts are decimal strings in currency units: "25.00", "0.000000600".

export const NANOS_PER_UNIT = 1_000_000_000n;
const SCALE = 9;
const DECIMAL = /^(-)?(\d{1,18})(?:\.(\d{1,9}))?$/;
/** The largest amount a ledger column (Postgres bigint of nanos) holds: 9223372036.854775807. */
export const MAX_AMOUNT_NANOS = 2n ** 63n - 1n;
/** Any decimal of at most 15 significant digits survives the trip through a double unchanged. */
const EXACT_DIGITS = 15;

export class MoneyFormatError extends Error {}

/**
 * "25.00" -> 25_000_000_000n. Rejects more than 9 decimals, exponents, signs other than a leading '-',
 * and amounts no bigint column can hold.
 */
export function parseAmount(value: string | number): bigint {
  const text = typeof value === 'number' ? numberToDecimal(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new MoneyFormatError(`not a decimal amount with at most ${SCALE} decimals: ${JSON.stringify(value)}`);
  const whole = BigInt(m[2]);
  const frac = BigInt((m[3] ?? '').padEnd(SCALE, '0'));
  const nanos = whole * NANOS_PER_UNIT + frac;
  if (nanos > MAX_AMOUNT_NANOS)
    throw new MoneyFormatError(`amount out of range: at most ${formatAmount(MAX_AMOUNT_NANOS)}`);
  return m[1] ? -nanos : nanos;
}

/**
 * JSON numbers are accepted from clients for convenience ("amount": 25) only when they are exact: the
 * decimal the client wrote is the one we read. A JSON number with more than 15 significant digits may
 * already have been rounded by the parser (12345678901234567 arrives as ...568), so it is refused and
 * such amounts must be sent as strings. Never converted through binary arithmetic.
 */
export function numberToDecimal(n: number): string {
  if (!Number.isFinite(n)) throw new MoneyFormatError(`not a finite amount: ${n}`);
  if (Math.abs(n) >= 1e21) throw new MoneyFormatError(`amount out of range: ${n}`);
  const text = n
    .toFixed(SCALE)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
  if (Number(text) !== n) throw new MoneyFormatError(`not a decimal amount with at most ${SCALE} decimals: ${n}`);
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').length;
  if (digits > EXACT_DIGITS)
    throw new MoneyFormatError(
      `a JSON number of more than ${EXACT_DIGITS} significant digits is not exact: send the amount as a string`,
    );
  return text;
}

/**
 * 25_000_000_000n -> "25.00"; 600n -> "0.000000600". Whole cents print with 2 decimals, anything finer
 * prints all 9, so a reader always sees the exact amount.
 */
export function formatAmount(nanos: bigint): string {
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  const whole = abs / NANOS_PER_UNIT;
  const frac = (abs % NANOS_PER_UNIT).toString().padStart(SCALE, '0');
  const fracOut = frac.endsWith('0000000') ? frac.slice(0, 2) : frac;
  return `${neg ? '-' : ''}${whole}.${fracOut}`;
}

/** Integer division rounding up, for non-negative numerator and positive divisor. */
export function ceilDiv(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  if (n <= 0n) return n / d; // truncates toward zero, which is the ceiling for negatives
  return (n + d - 1n) / d;
}

/** Minor units of a currency (cents for USD) as nanos: Stripe speaks minor units. */
export function minorUnitsToNanos(minor: number | bigint, currency: string): bigint {
  const digits = ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : THREE_DECIMAL.has(currency.toUpperCase()) ? 3 : 2;
  return BigInt(minor) * 10n ** BigInt(SCALE - digits);
}

export function nanosToMinorUnits(nanos: bigint, currency: string): bigint {
  const digits = ZERO_DECIMAL.has(currency.toUpperCase()) ? 0 : THREE_DECIMAL.has(currency.toUpperCase()) ? 3 : 2;
  const unit = 10n ** BigInt(SCALE - digits);
  if (nanos % unit !== 0n) throw new MoneyFormatError(`amount is finer than the currency's minor unit`);
  return nanos / unit;
}

// Stripe's lists of currencies without, and with three, decimal places.
const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);
