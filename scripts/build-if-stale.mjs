#!/usr/bin/env node
// The quickstart's build: compiles with `tsc --incremental` only when a source under
// tsconfig.json's "include" is newer than its output in dist/ (or has none), so a start with
// nothing changed takes no build time and a change rebuilds only what it affects. The clean
// build (`npm run build`, which empties dist/ first) stays what CI and `npm test` use.
//   node scripts/build-if-stale.mjs [--check] [--root <dir>]
// --check only reports: exit 0 when up to date, 1 naming the first stale source.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { check: { type: 'boolean' }, root: { type: 'string' } } });
const root = path.resolve(values.root ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..'));
const tsconfig = JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8'));
const outDir = path.join(root, tsconfig.compilerOptions?.outDir ?? 'dist');

function sources(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The first source whose output is missing or older, or null when dist/ is up to date. */
function firstStale() {
  const configTime = statSync(path.join(root, 'tsconfig.json')).mtimeMs;
  for (const entry of tsconfig.include ?? []) {
    // "dir" or "dir/**/*.ts": both mean every .ts file below dir.
    for (const src of sources(path.join(root, entry.replace(/\/\*\*.*$/, '')))) {
      const out = path.join(outDir, path.relative(root, src)).replace(/\.ts$/, '.js');
      if (!existsSync(out)) return src;
      const outTime = statSync(out).mtimeMs;
      if (outTime < statSync(src).mtimeMs || outTime < configTime) return src;
    }
  }
  return null;
}

const stale = firstStale();
if (values.check) {
  console.log(stale === null ? 'up to date' : `stale: ${path.relative(root, stale)}`);
  process.exit(stale === null ? 0 : 1);
}
if (stale === null) process.exit(0);
console.log(`building (incremental; ${path.relative(root, stale)} changed) ...`);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--incremental'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
