#!/usr/bin/env node
// Builds the optional original-destination addon (native/original-dst) with node-gyp.
//
// The addon gives transparent interception what Node lacks: getsockopt(SO_ORIGINAL_DST)
// for iptables REDIRECT and setsockopt(IP_TRANSPARENT) for TPROXY. It is optional: on a
// machine without a C compiler or Node's headers, or on another OS, the build fails with a
// warning and this script still exits 0. Meltemi then runs everything except listeners that
// need the original destination, which it refuses at config time (proxy/net/original-dst.ts).
//
//   node scripts/build-native.mjs            build, warn on failure
//   node scripts/build-native.mjs --strict   build, exit 1 on failure (the Dockerfile's build stage)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ADDON = path.join(ROOT, 'native', 'original-dst');
const strict = process.argv.includes('--strict');

/** node-gyp: the one npm passes to scripts, else the copy bundled with npm beside this node. */
function findNodeGyp() {
  const candidates = [
    process.env['npm_config_node_gyp'],
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p !== undefined && p !== '' && existsSync(p));
}

function fail(why) {
  const msg = `build-native: the original-destination addon was not built (${why}); listeners that need the original destination (use_original_dst, original_dst listener filter) will be refused`;
  console.warn(msg);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') fail(`SO_ORIGINAL_DST exists only on Linux, this is ${process.platform}`);
const gyp = findNodeGyp();
if (gyp === undefined) fail('node-gyp not found');
// Node's headers installed with node itself (Debian's nodejs-dev, the official tarballs and
// images) save node-gyp a download, so the build also works offline.
const prefix = path.join(path.dirname(process.execPath), '..');
const nodedir = existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
const r = spawnSync(process.execPath, [gyp, 'rebuild', ...nodedir], { cwd: ADDON, stdio: strict ? 'inherit' : 'pipe', encoding: 'utf8' });
if (r.status !== 0) fail(`node-gyp exit ${r.status ?? r.signal}${r.stderr ? `: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
console.log(`build-native: ${path.relative(ROOT, path.join(ADDON, 'build', 'Release', 'original_dst.node'))} built`);
