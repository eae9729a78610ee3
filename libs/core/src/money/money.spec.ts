import { ceilDiv, formatAmount, minorUnitsToNanos, MoneyFormatError, nanosToMinorUnits, parseAmount } from './money';

describe('money', () => {
  it('parses decimal strings exactly', () => {
    expect(parseAmount('25.00')).toBe(25_000_000_000n);
    expect(parseAmount('0.000000600')).toBe(600n);
    expect(parseAmount('0.1')).toBe(100_000_000n);
    expect(parseAmount('-3.5')).toBe(-3_500_000_000n);
    expect(parseAmount(0.1)).toBe(100_000_000n);
    expect(parseAmount(25)).toBe(25_000_000_000n);
  });

  it.each(['', 'abc', '1e3', '0.0000000001', '1,5', '+1', '.5', '1.', ' -', 'NaN'])('rejects %j', (v) => {
    expect(() => parseAmount(v)).toThrow(MoneyFormatError);
  });

  it('rejects non-finite and exponent numbers', () => {
    expect(() => parseAmount(Number.POSITIVE_INFINITY)).toThrow(MoneyFormatError);
    expect(() => parseAmount(1e-10)).toThrow(MoneyFormatError);
  });

  it('accepts JSON numbers only when they are exact, and amounts only up to what a bigint column holds', () => {
    expect(parseAmount(1e-7)).toBe(100n); // printed 1e-7 by JavaScript, still an exact decimal
    expect(parseAmount(123456.789012345)).toBe(123_456_789_012_345n); // 15 significant digits
    expect(parseAmount(12345.123456789)).toBe(12_345_123_456_789n);
    // 16+ significant digits: what the client wrote may not be what JSON.parse gave us
    expect(() => parseAmount(JSON.parse('12345678901234567') as number)).toThrow(/as a string/);
    expect(() => parseAmount(1234567890.123456)).toThrow(/as a string/);
    expect(() => parseAmount(0.1234567891)).toThrow(MoneyFormatError); // 10 decimals
    expect(() => parseAmount(1e21)).toThrow(MoneyFormatError);
    // the same amounts as strings are exact
    expect(parseAmount('1234567890.123456')).toBe(1_234_567_890_123_456_000n);
    expect(parseAmount('9223372036.854775807')).toBe(2n ** 63n - 1n);
    expect(() => parseAmount('9223372036.854775808')).toThrow(/out of range/);
    expect(() => parseAmount('999999999999')).toThrow(/out of range/);
  });

  it('formats whole cents with 2 decimals and finer amounts with 9', () => {
    expect(formatAmount(25_000_000_000n)).toBe('25.00');
    expect(formatAmount(600n)).toBe('0.000000600');
    expect(formatAmount(0n)).toBe('0.00');
    expect(formatAmount(-1_230_000_000n)).toBe('-1.23');
    expect(formatAmount(1_234_567_891n)).toBe('1.234567891');
  });

  it('round-trips', () => {
    for (const s of ['0.00', '1.50', '0.000000001', '123456789.123456789']) {
      expect(parseAmount(formatAmount(parseAmount(s)))).toBe(parseAmount(s));
    }
  });

  it('divides rounding up', () => {
    expect(ceilDiv(10n, 3n)).toBe(4n);
    expect(ceilDiv(9n, 3n)).toBe(3n);
    expect(ceilDiv(0n, 3n)).toBe(0n);
    expect(() => ceilDiv(1n, 0n)).toThrow(RangeError);
  });

  it('converts minor units by currency', () => {
    expect(minorUnitsToNanos(2500, 'USD')).toBe(25_000_000_000n);
    expect(minorUnitsToNanos(2500, 'JPY')).toBe(2_500_000_000_000n);
    expect(nanosToMinorUnits(25_000_000_000n, 'usd')).toBe(2500n);
    expect(() => nanosToMinorUnits(1n, 'USD')).toThrow(MoneyFormatError);
  });
});
