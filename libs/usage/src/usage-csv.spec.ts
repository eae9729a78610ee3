import { csvField, usageCsvHeader, usageCsvLine } from './usage-csv';
import type { UsageRow } from './usage-record';

const row: UsageRow = {
  id: '00000000-0000-4000-8000-000000000001',
  request_id: 'req_1',
  created_at: '2025-01-02T03:04:05.678Z',
  agent_id: null,
  workspace_id: null,
  api_key_id: null,
  endpoint: 'chat.completions',
  model_requested: '-1+1',
  model_used: 'gpt-4o-mini',
  provider_id: 'openai',
  status: 200,
  error_code: null,
  input_tokens: 1,
  cached_input_tokens: 0,
  output_tokens: 2,
  cost: '0.000000600',
  latency_ms: -5,
  ttft_ms: null,
  stream: true,
  client_label: '@SUM(A1), "x"',
  fallback_depth: 0,
  client_ip: '::1',
};

describe('usage CSV', () => {
  it('quotes only fields with a comma, quote or line break, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('a\rb')).toBe('"a\rb"');
    expect(csvField(null)).toBe('');
    expect(csvField(12)).toBe('12');
    expect(csvField(false)).toBe('false');
  });

  it('ends records with CRLF and defuses formulas in text columns only', () => {
    expect(usageCsvHeader().endsWith('\r\n')).toBe(true);
    const line = usageCsvLine(row);
    expect(line.endsWith('\r\n')).toBe(true);
    expect(line).toContain(`,'-1+1,gpt-4o-mini,`);
    expect(line).toContain(`,"'@SUM(A1), ""x""",`);
    expect(line).toContain(',-5,'); // a number is never prefixed
    expect(line.split(',').length).toBeGreaterThanOrEqual(usageCsvHeader().split(',').length);
  });
});
