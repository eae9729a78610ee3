// CSV export of usage rows: RFC 4180 (CRLF line ends, fields with a comma, quote or line break are
// quoted, quotes doubled). Text a client controls (x-client label, model names) is also kept from
// being run as a spreadsheet formula.
import type { UsageRow } from './usage-record';

export const USAGE_CSV_COLUMNS = [
  'id',
  'created_at',
  'request_id',
  'agent_id',
  'workspace_id',
  'api_key_id',
  'endpoint',
  'model_requested',
  'model_used',
  'provider_id',
  'status',
  'error_code',
  'input_tokens',
  'cached_input_tokens',
  'output_tokens',
  'cost',
  'latency_ms',
  'ttft_ms',
  'stream',
  'client_label',
  'fallback_depth',
  'client_ip',
] as const satisfies ReadonlyArray<keyof UsageRow>;

/** Free-text columns, which may start with characters a spreadsheet reads as a formula. */
const TEXT_COLUMNS = new Set<keyof UsageRow>([
  'request_id',
  'endpoint',
  'model_requested',
  'model_used',
  'provider_id',
  'error_code',
  'client_label',
]);

export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** OWASP's advice for CSV injection: a leading ' makes a spreadsheet show the text instead of evaluating it. */
function defuseFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

export function usageCsvHeader(): string {
  return USAGE_CSV_COLUMNS.join(',') + '\r\n';
}

export function usageCsvLine(row: UsageRow): string {
  const out: string[] = [];
  for (const col of USAGE_CSV_COLUMNS) {
    const v = row[col];
    out.push(csvField(typeof v === 'string' && TEXT_COLUMNS.has(col) ? defuseFormula(v) : v));
  }
  return out.join(',') + '\r\n';
}
