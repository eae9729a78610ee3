// Where a string occurs in a whole database: every column of every table, bytea included (stored
// response bodies are bytea, which a plain ::text cast would show hex-encoded and so hide).
import type { DataSource } from 'typeorm';

export async function grepDatabase(db: DataSource, needle: string): Promise<string[]> {
  // tables and partitioned parents (a parent reads its partitions' rows), not the partitions again
  const columns: Array<{ table_name: string; column_name: string; type: string }> = await db.query(
    `SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
  );
  const found: string[] = [];
  for (const c of columns) {
    const col = `"${c.column_name}"`;
    const test = c.type === 'bytea' ? `position(convert_to($1, 'UTF8') in ${col}) > 0` : `strpos(${col}::text, $1) > 0`;
    const rows: Array<{ n: number }> = await db.query(
      `SELECT count(*)::int AS n FROM "${c.table_name}" WHERE ${test}`,
      [needle],
    );
    if (rows[0].n > 0) found.push(`${c.table_name}.${c.column_name}`);
  }
  return found;
}
