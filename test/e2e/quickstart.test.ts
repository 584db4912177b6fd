/** The README's first command: the quickstart runs, real calls flow, and it exits cleanly. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../../examples/quickstart/run.js', import.meta.url));
const source = fileURLToPath(new URL('../../examples/quickstart/run.ts', import.meta.url));

test('the quickstart sends Dubbo calls through Meltemi to both versions', async () => {
  const args = existsSync(compiled) ? [compiled] : ['--import', 'tsx', source];
  // A port base away from the defaults, so a quickstart a developer left running does not clash.
  const child = spawn(process.execPath, [...args, '--duration', '4', '--port-base', '31880'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out);
  assert.match(out, /Meltemi is proxying Dubbo on 127\.0\.0\.1:31880/);
  assert.match(out, /canary-split -> v1 +\d+/);
  assert.match(out, /canary-split -> v2 +\d+/);
  assert.match(out, /plus-to-v2 -> v2 +\d+/);
  assert.match(out, / 0 errors/);
  assert.match(out, /Meltemi exited with code 0/);
});
