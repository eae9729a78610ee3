// Public face of libs/usage: the usage log writer (batched, off the request path), its monthly
// partitions, and the read side (per-day aggregates, admin rows and CSV export).
export * from './usage-record';
export * from './usage-writer.service';
export * from './usage-partitions.service';
export * from './usage-query.service';
export { USAGE_CSV_COLUMNS, usageCsvHeader, usageCsvLine } from './usage-csv';
export { DEFAULT_RANGE_DAYS } from './usage-filters';
export * from './usage.module';
