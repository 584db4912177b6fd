/**
 * The CLI takes Envoy's level names (`-l warning`, MELTEMI_LOG_LEVEL=warning crashed at
 * start before), `--log-format`, and the "log level changed" record has one `level`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, spawnCli } from '../helpers/cli-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-log-levels-'));
const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
const file = path.join(dir, 'boot.yaml');
writeFileSync(file, stringify(bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'c' }] })], [staticCluster('c', [1])], undefined, ADMIN)));

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return collect(spawnCli(args, env)).done;
}

test('-l warning and -l warn are accepted (Envoy and Istio spell it warning)', async () => {
  for (const level of ['warning', 'warn', 'critical', 'off', 'TRACE']) {
    const r = await run(['-c', file, '--validate', '-l', level]);
    assert.equal(r.code, 0, `${level}: ${r.stderr}`);
  }
});

test('MELTEMI_LOG_LEVEL=warning is accepted', async () => {
  const r = await run(['-c', file, '--validate'], { MELTEMI_LOG_LEVEL: 'warning' });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Error|unknown level/);
});

test('an unknown -l level is a usage error naming the levels, not a crash', async () => {
  const r = await run(['-c', file, '--validate', '-l', 'loud']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--log-level: unknown level 'loud'; one of trace debug info warning/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('an unknown MELTEMI_LOG_LEVEL falls back to info with a warning', async () => {
  const r = await run(['-c', file, '--validate'], { MELTEMI_LOG_LEVEL: 'loud' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /MELTEMI_LOG_LEVEL: unknown level 'loud'/);
});

test('--log-format text writes Envoy-style lines; a bad pattern is refused', async () => {
  const child = spawnCli(['-c', file, '--log-format', 'text']);
  const out = collect(child);
  try {
    for (const end = Date.now() + 10_000; Date.now() < end && !/admin server listening/.test(out.stderr()); ) await new Promise((r) => setTimeout(r, 25));
    const line = out.stderr().split('\n').find((l) => l.includes('admin server listening')) ?? '';
    assert.match(line, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[info\]\[meltemi\] admin server listening admin=127\.0\.0\.1:\d+$/, out.stderr());
  } finally {
    child.kill('SIGTERM');
    await out.done;
  }
  const bad = await run(['-c', file, '--validate', '--log-format', '%Q']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-format: %Q is not supported/);
});

test('MELTEMI_LOG_FORMAT=text is honoured; a bad one falls back to JSON with a warning', async () => {
  const text = await run(['-c', file, '--validate'], { MELTEMI_LOG_FORMAT: '%l|%v', MELTEMI_LOG_LEVEL: 'loud' });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stderr, /^warning\|MELTEMI_LOG_LEVEL: unknown level 'loud' \(one of trace/m);
  const bad = await run(['-c', file, '--validate'], { MELTEMI_LOG_FORMAT: '%Q' });
  assert.equal(bad.code, 0, bad.stderr);
  const warning = JSON.parse(bad.stderr.split('\n').find((l) => l.includes('MELTEMI_LOG_FORMAT')) ?? '{}') as { msg?: string; level?: number };
  assert.equal(warning.level, 40);
  assert.match(warning.msg ?? '', /MELTEMI_LOG_FORMAT: --log-format: %Q is not supported/);
});

test('admin /logging takes Envoy names and logs one record with a single level field', async () => {
  const child = spawnCli(['-c', file]);
  const out = collect(child);
  try {
    let admin = '';
    for (const end = Date.now() + 10_000; Date.now() < end && admin === ''; ) {
      admin = /"admin":"(127\.0\.0\.1:\d+)"/.exec(out.stderr())?.[1] ?? '';
      if (admin === '') await new Promise((r) => setTimeout(r, 25));
    }
    assert.notEqual(admin, '', out.stderr());
    const res = await fetch(`http://${admin}/logging?level=warning`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /meltemi: warning/);
    for (const end = Date.now() + 5000; Date.now() < end && !/log level changed/.test(out.stderr()); ) await new Promise((r) => setTimeout(r, 25));
    const line = out.stderr().split('\n').find((l) => l.includes('log level changed')) ?? '';
    assert.equal(line.match(/"level":/g)?.length, 1, line);
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.equal(record['level'], 30);
    assert.equal(record['log_level'], 'warning');
    assert.equal(record['previous'], 'info');
  } finally {
    child.kill('SIGTERM');
    await out.done;
  }
});
