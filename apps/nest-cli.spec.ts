// nest-cli.json describes the monorepo as it is: every project's entry file exists where it says, and
// every app entry point and lib is listed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

interface Project {
  type: 'application' | 'library';
  root: string;
  sourceRoot: string;
  entryFile: string;
}

const cli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
  sourceRoot: string;
  entryFile: string;
  projects: Record<string, Project>;
};

describe('nest-cli.json', () => {
  it("every project's sourceRoot/entryFile.ts exists, the default project's too", () => {
    const missing = [
      ...Object.entries(cli.projects).map(([name, p]) => [name, join(p.sourceRoot, `${p.entryFile}.ts`)]),
      ['(default)', join(cli.sourceRoot, `${cli.entryFile}.ts`)],
    ].filter(([, file]) => !existsSync(join(ROOT, file)));
    expect(missing).toEqual([]);
  });

  it('lists every app entry point and every lib', () => {
    const apps = readdirSync(join(ROOT, 'apps')).filter((d) => existsSync(join(ROOT, 'apps', d, 'main.ts')));
    const libs = readdirSync(join(ROOT, 'libs')).filter((d) => existsSync(join(ROOT, 'libs', d, 'src', 'index.ts')));
    const listed = (type: Project['type']) =>
      Object.values(cli.projects)
        .filter((p) => p.type === type)
        .map((p) => p.root);
    expect(listed('application').sort()).toEqual(['apps', ...apps.map((a) => `apps/${a}`)].sort());
    expect(listed('library').sort()).toEqual(libs.map((l) => `libs/${l}`).sort());
  });
});
