#!/usr/bin/env node
// npm's `prepare` step: compiles dist/, writes the xDS schema file beside it, and builds the
// optional original-destination addon (scripts/build-native.mjs; a failed build only warns).
//
// It also runs when this repository is a `file:` dependency (examples/custom-codec has
// "meltemi": "file:../.."): npm then links the folder and runs this script there without
// installing the repository's own dependencies, so on a fresh clone there would be no
// TypeScript to build with ("tsc: not found"). In that case the repository's dependencies are
// installed first (npm ci, from the lock file), so `npm install` in the example works alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`prepare: ${[cmd, ...args].join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    process.exit(1);
  }
}

if (!existsSync(TSC)) {
  console.error(`prepare: ${ROOT} has no dependencies installed (used as a file: dependency?); running npm ci there first`);
  // The outer npm's prefix would point the inner one at the dependent package's folder.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(local_)?prefix$/i.test(k)));
  const npmCli = process.env['npm_execpath'];
  const npm = npmCli !== undefined && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  run(npm[0], [...npm[1], 'ci', '--ignore-scripts', '--no-audit', '--no-fund'], env);
}
run(process.execPath, [TSC, '-p', 'tsconfig.json']);
run(process.execPath, [path.join(ROOT, 'scripts', 'build-xds-schema.mjs')]);
run(process.execPath, [path.join(ROOT, 'scripts', 'build-native.mjs')]);
