/**
 * The `meltemi-codec-kit` command: loads a codec package as Meltemi does, runs every check
 * on a samples file, and says by its exit code whether the codec conforms.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = existsSync(path.join(here, '..', '..', 'tools', 'codec-kit', 'cli.js'));
const ext = compiled ? 'js' : 'ts';
const kitCli = path.join(here, '..', '..', 'tools', 'codec-kit', `cli.${ext}`);
const trpcIndex = path.join(here, '..', '..', 'codecs', 'trpc', `index.${ext}`);

const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-kit-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A package that is nothing but the built-in tRPC codec, found by path.
writeFileSync(path.join(dir, 'trpc-codec.mjs'), `export { trpcCodecFactory as default } from ${JSON.stringify(pathToFileURL(trpcIndex).href)};\n`);

// spec/test-vectors.md §4.2 (captures/trpc-vectors.txt): UNARY_REQUEST and UNARY_RESPONSE.
const REQUEST =
  '0930000000000093007c000000010100180120e8072a17747270632e6170702e636c69656e742e73657276696365321c747270632e746573742e68656c6c6f776f726c642e477265657465723a262f747270632e746573742e68656c6c6f776f726c642e477265657465722f53617948656c6c6f4a160a0f747270632d647965696e672d6b657912036162630a0568656c6c6f';
const RESPONSE = '0930000000000019000200000001010018010a0568656c6c6f';

function kit(args: string[]): Promise<{ code: number | null; out: string }> {
  const argv = compiled ? [kitCli, ...args] : ['--import', import.meta.resolve('tsx'), kitCli, ...args];
  const child = spawn(process.execPath, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

function samples(name: string, doc: object): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

test('a conforming codec: every check ok, a benchmark table, exit 0', async () => {
  const file = samples('good.json', { codec: 'aeraki.meta_protocol.codec.trpc', requests: [{ name: 'unary', bytes: REQUEST }], responses: [RESPONSE] });
  const r = await kit(['./trpc-codec.mjs', file, '--bench-ms', '10', '--fuzz-runs', '20']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^ok {3}round trip/m);
  assert.match(r.out, /^ok {3}id rewrite and restore/m);
  assert.match(r.out, /^n\/a {2}heartbeat/m);
  assert.match(r.out, /request #0 \(unary\)\s+decode\s+[\d,]+\s+\d+/);
  assert.match(r.out, /all checks passed/);
});

test('a sample the codec cannot round-trip: the failing check is named, exit 1', async () => {
  // A request cut one byte short: no whole frame to decode.
  const file = samples('bad.json', { requests: [REQUEST.slice(0, -2)], responses: [RESPONSE] });
  const r = await kit(['./trpc-codec.mjs', file, '--no-bench', '--fuzz-runs', '20']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /^FAIL round trip[^\n]*\n\s+request #0: expected one message, decode produced 0/m);
  assert.match(r.out, /check\(s\) failed/);
});

test('a wrong codec name, a missing package and bad arguments', async () => {
  const file = samples('named.json', { codec: 'aeraki.meta_protocol.codec.other', requests: [REQUEST], responses: [] });
  const wrong = await kit(['./trpc-codec.mjs', file]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.out, /named 'aeraki\.meta_protocol\.codec\.trpc', not 'aeraki\.meta_protocol\.codec\.other'/);
  const missing = await kit(['meltemi-codec-absent', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.out, /cannot find package 'meltemi-codec-absent'/);
  const usage = await kit(['./trpc-codec.mjs']);
  assert.equal(usage.code, 2);
  assert.match(usage.out, /expected a package and a samples file/);
});

// A codec that throws on some hostile input, for the mutation fuzzer to find.
writeFileSync(
  path.join(dir, 'fragile-codec.mjs'),
  `import { trpcCodecFactory as t } from ${JSON.stringify(pathToFileURL(trpcIndex).href)};
const fragile = (c) => { const decode = c.decode.bind(c); c.decode = (r) => { if (r.length > 3 && r.byteAt(3) === 0xff) throw new RangeError('boom'); return decode(r); }; return c; };
export default { ...t, createServerCodec: (ctx) => fragile(t.createServerCodec(ctx)), createClientCodec: (ctx) => fragile(t.createClientCodec(ctx)) };\n`,
);

test('--runs N --seed S: only the fuzz check, its counts, the same counts for the same seed', async () => {
  const file = samples('fuzz.json', { codec: 'aeraki.meta_protocol.codec.trpc', requests: [REQUEST], responses: [RESPONSE] });
  const a = await kit(['./trpc-codec.mjs', file, '--runs', '300', '--seed', '7', '--fuzz-runs', '5']);
  assert.equal(a.code, 0, a.out);
  assert.doesNotMatch(a.out, /round trip/);
  const counts = /seed 7: .*mutation fuzz (300 input\(s\)[^\n]*?), [\d.]+ s/.exec(a.out);
  assert.ok(counts !== null, a.out);
  const b = await kit(['./trpc-codec.mjs', file, '--runs', '300', '--seed', '7', '--fuzz-runs', '5']);
  assert.ok(b.out.includes(counts[1]!), `the same seed, the same inputs:\n${b.out}`);
  const bad = await kit(['./trpc-codec.mjs', file, '--runs', 'many']);
  assert.equal(bad.code, 2);
});

test('the fuzzer finds a codec that throws, and prints the seed and input that replay it', async () => {
  const file = samples('fragile.json', { codec: 'aeraki.meta_protocol.codec.trpc', requests: [REQUEST], responses: [RESPONSE] });
  const r = await kit(['./fragile-codec.mjs', file, '--runs', '20000', '--seed', '11', '--fuzz-runs', '1']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /seed 11/);
  assert.match(r.out, /input: [0-9a-f]+/);
  assert.match(r.out, /RangeError: boom/);
});
