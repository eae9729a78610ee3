import { affordableOutputTokens, costOf, isFree, parsePrice } from './pricing';

describe('pricing', () => {
  const mini = parsePrice({ input_per_mtok: '0.15', output_per_mtok: '0.60' });

  it('parses decimal prices to nanos per unit', () => {
    expect(mini.inputPerMtok).toBe(150_000_000n);
    expect(mini.outputPerMtok).toBe(600_000_000n);
    expect(mini.cachedInputPerMtok).toBe(150_000_000n);
    expect(() => parsePrice({ input_per_mtok: '-1' })).toThrow();
    expect(() => parsePrice({ input_per_mtok: '0.1', bogus: '1' } as never)).toThrow(/unknown price field/);
  });

  it('costs tokens exactly and rounds up once per request', () => {
    // 10 input tokens at 0.15/M = 1500 nanos; 5 output at 0.60/M = 3000 nanos
    expect(costOf(mini, { inputTokens: 10, outputTokens: 5 })).toBe(4500n);
    // 1 token at 0.0375/M = 37.5 nanos -> 38 (rounded once, not per part)
    const cheap = parsePrice({ input_per_mtok: '0.0375', output_per_mtok: '0.0375' });
    expect(costOf(cheap, { inputTokens: 1, outputTokens: 0 })).toBe(38n);
    expect(costOf(cheap, { inputTokens: 1, outputTokens: 1 })).toBe(75n);
  });

  it('bills cached input at its own price', () => {
    const p = parsePrice({ input_per_mtok: '3', cached_input_per_mtok: '0.30', output_per_mtok: '15' });
    // 1000 input of which 800 cached: 200*3000 + 800*300 nanos = 600000 + 240000
    expect(costOf(p, { inputTokens: 1000, cachedInputTokens: 800, outputTokens: 0 })).toBe(840_000n);
  });

  it('adds per-request, per-image, per-second and per-1k-character prices', () => {
    const p = parsePrice({ per_request: '0.001', per_image: '0.04', per_second: '0.10', per_1k_chars: '0.015' });
    expect(costOf(p, { inputTokens: 0, outputTokens: 0 })).toBe(1_000_000n);
    expect(costOf(p, { inputTokens: 0, outputTokens: 0, images: 2 })).toBe(81_000_000n);
    // 2.5 s at 0.10 a second is 0.25, not 3 s worth: durations are exact, rounded once with the rest
    expect(costOf(p, { inputTokens: 0, outputTokens: 0, milliseconds: 2_500 })).toBe(251_000_000n);
    // 1500 chars at 0.015 per 1000 = 0.0225
    expect(costOf(p, { inputTokens: 0, outputTokens: 0, chars: 1500 })).toBe(23_500_000n);
  });

  it('rounds a duration with the other parts, once', () => {
    // 1 ms at 0.000000003 a second is 0.003 of a nano; with 1 token at 0.0375/M (37.5 nanos): 37.503 -> 38
    const p = parsePrice({ input_per_mtok: '0.0375', per_second: '0.000000003' });
    expect(costOf(p, { inputTokens: 1, outputTokens: 0, milliseconds: 1 })).toBe(38n);
    expect(costOf(p, { inputTokens: 0, outputTokens: 0, milliseconds: 1 })).toBe(1n);
    expect(costOf(p, { inputTokens: 0, outputTokens: 0, milliseconds: 1_000 })).toBe(3n);
    expect(() => costOf(p, { inputTokens: 0, outputTokens: 0, milliseconds: 2.5 })).toThrow();
  });

  it('tells how many output tokens a budget pays for', () => {
    // budget 4500 nanos, input 10 tokens costs 1500, leaves 3000 = 5 tokens at 600 nanos
    expect(affordableOutputTokens(mini, 10, 4500n)).toBe(5);
    expect(affordableOutputTokens(mini, 10, 1500n)).toBe(0);
    expect(
      costOf(mini, { inputTokens: 10, outputTokens: affordableOutputTokens(mini, 10, 4999n) }),
    ).toBeLessThanOrEqual(4999n);
    expect(affordableOutputTokens(parsePrice({}), 10, 0n)).toBe(0);
    expect(affordableOutputTokens(parsePrice({ input_per_mtok: '1' }), 0, 1n)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('knows a free model', () => {
    expect(isFree(parsePrice({}))).toBe(true);
    expect(isFree(mini)).toBe(false);
  });
});
