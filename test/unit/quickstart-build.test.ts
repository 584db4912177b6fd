/** The quickstart builds only when a source changed (scripts/build-if-stale.mjs), never from scratch. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const script = path.join(repo, 'scripts', 'build-if-stale.mjs');

function check(root: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, '--check', '--root', root], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('npm run quickstart does not start with a clean build', () => {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.doesNotMatch(pkg.scripts.quickstart!, /npm run build|rmSync/);
  assert.match(pkg.scripts.quickstart!, /^node scripts\/build-if-stale\.mjs && /);
});

test('a source newer than its output, or without one, makes the build stale', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'meltemi-build-if-stale-'));
  try {
    writeFileSync(path.join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { outDir: 'out' }, include: ['src', 'tools/**/*.ts'] }));
    mkdirSync(path.join(root, 'src', 'deep'), { recursive: true });
    mkdirSync(path.join(root, 'tools'));
    mkdirSync(path.join(root, 'out', 'src', 'deep'), { recursive: true });
    mkdirSync(path.join(root, 'out', 'tools'));
    const past = new Date(Date.now() - 60_000);
    for (const f of ['src/deep/a.ts', 'src/types.d.ts', 'tools/t.ts']) writeFileSync(path.join(root, f), '');
    for (const f of ['tsconfig.json', 'src/deep/a.ts', 'src/types.d.ts', 'tools/t.ts']) utimesSync(path.join(root, f), past, past);
    for (const f of ['out/src/deep/a.js', 'out/tools/t.js']) writeFileSync(path.join(root, f), '');
    assert.deepEqual(check(root), { status: 0, out: 'up to date\n' });

    writeFileSync(path.join(root, 'src', 'deep', 'a.ts'), 'export {};');
    assert.deepEqual(check(root), { status: 1, out: `stale: ${path.join('src', 'deep', 'a.ts')}\n` });
    writeFileSync(path.join(root, 'out', 'src', 'deep', 'a.js'), '');

    rmSync(path.join(root, 'out', 'tools', 't.js'));
    assert.deepEqual(check(root), { status: 1, out: `stale: ${path.join('tools', 't.ts')}\n` });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
