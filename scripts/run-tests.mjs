#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.mjs [substring ...] to run only files whose path matches.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', 'test');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === 'peers' || name === 'helpers' ? [] : walk(p);
    return p.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk(root)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files found under ${root}${filters.length ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}
// One file at a time: several tests assert "answered at once" latencies, which a second
// file competing for the 2 cores would blur.
// No --test-force-exit: on Node 20 it can end a file before all of its tests ran, and the run
// still passes with fewer tests (seen: 204 of thrift-splits' 216). Every file must leave
// nothing running instead (the peer helpers stop sofa-rpc-node's and apache-dubbo-js's
// reconnect timers); a file that does not would hang the run, which the timeout turns into a
// failure that says so.
const TIMEOUT_MS = 20 * 60 * 1000;
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  timeout: TIMEOUT_MS,
  killSignal: 'SIGKILL',
  env: { ...process.env, MELTEMI_LOG_LEVEL: process.env.MELTEMI_LOG_LEVEL ?? 'warn' },
});
if (r.error !== undefined || r.signal !== null) {
  console.error(
    `test run stopped after ${TIMEOUT_MS / 60000} min (${r.error?.message ?? r.signal}): ` +
      'a test file probably left a timer or socket open; run the files one by one to find it',
  );
  process.exit(1);
}
process.exit(r.status ?? 1);
