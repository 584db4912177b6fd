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
// file competing for the 2 cores would blur. Peers such as sofa-rpc-node keep timers
// alive after close, hence --test-force-exit.
const r = spawnSync(process.execPath, ['--test', '--test-force-exit', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  env: { ...process.env, MELTEMI_LOG_LEVEL: process.env.MELTEMI_LOG_LEVEL ?? 'warn' },
});
process.exit(r.status ?? 1);
