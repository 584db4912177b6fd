/**
 * The README's sample bootstrap is what a reader copies first: it must pass `meltemi --validate`
 * as shown, without a warning (a route to an undefined cluster is only a warning there).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { collect, spawnCli } from '../helpers/cli-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test/e2e when compiled, test/e2e from source.
const repoRoot = path.resolve(here, '..', '..', here.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

/** The first ```yaml block of the README that is a bootstrap (it has static_resources). */
function sampleBootstrap(readme: string): string {
  for (const m of readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) if (/^static_resources:/m.test(m[1]!)) return m[1]!;
  throw new Error('README.md has no ```yaml block with static_resources');
}

test("the README's sample bootstrap passes meltemi --validate without warnings", async () => {
  const yaml = sampleBootstrap(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
  const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-readme-'));
  try {
    const file = path.join(dir, 'bootstrap.yaml');
    writeFileSync(file, yaml);
    const r = await collect(spawnCli(['-c', file, '--validate'])).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid \(1 listener\(s\), 2 cluster\(s\)\)/);
    assert.equal(r.stderr.trim(), '', 'warnings about the sample');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
