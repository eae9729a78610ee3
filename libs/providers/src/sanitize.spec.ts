import { sanitizeMessage } from './sanitize';

describe('sanitizeMessage', () => {
  it.each([
    ['Incorrect API key provided: sk-proj-abcdefghijklmnop1234', 'sk-proj-'],
    ['key AIzaSyA1234567890abcdefghij is invalid', 'AIza'],
    ['could not reach http://10.0.0.12:8000/v1/chat/completions', '10.0.0.12'],
    ['upstream api.internal-llm.corp refused', 'internal-llm'],
    ['connect ECONNREFUSED 127.0.0.1:11434', '127.0.0.1'],
    ['Authorization: Bearer abcdefghijklmnop', 'abcdefghijklmnop'],
    ['host [fe80::1ff:fe23:4567:890a] down', 'fe80'],
  ])('removes secrets and locations from %j', (input, leaked) => {
    const out = sanitizeMessage(input);
    expect(out).not.toContain(leaked);
  });

  it('keeps ordinary text and bounds the length', () => {
    expect(sanitizeMessage("max_tokens is too large: 99999. This model's maximum is 16384.")).toBe(
      "max_tokens is too large: 99999. This model's maximum is 16384.",
    );
    expect(sanitizeMessage('x'.repeat(2000)).length).toBeLessThanOrEqual(503);
  });
});
