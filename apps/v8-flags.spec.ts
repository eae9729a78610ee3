// Pretenuring off (apps/v8-flags.ts) only helps if it is set before the app allocates: every entry
// point imports it first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const ENTRY_POINTS = [
  'apps/main.ts',
  'apps/gateway/main.ts',
  'apps/admin/main.ts',
  'apps/worker/main.ts',
  'tools/demo/run-demo.ts',
];

function firstImport(file: string): string | undefined {
  return readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .find((l) => /^import\b/.test(l));
}

describe('V8 flags', () => {
  it.each(ENTRY_POINTS)('%s imports apps/v8-flags before anything else', (file) => {
    expect(firstImport(file)).toMatch(/^import '(\.\.\/)*(apps\/)?\.?\/?v8-flags';$/);
  });
});
