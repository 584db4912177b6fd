#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner.
//
//   node scripts/run-tests.mjs                  the default suite: every test that needs only
//                                               Node and npm (`npm test`)
//   node scripts/run-tests.mjs --suite interop  one named suite (`npm run test:interop`)
//   node scripts/run-tests.mjs <substring> ...  the files whose path matches, of any suite
//
// Suites. A test file that needs something beyond Node and npm says so in its name:
// `<name>.<suite>.test.ts` (thrift-proxy.interop.test.ts). A file without a marker is in
// the default suite, so a new test file runs in `npm test` unless its author marks it. A
// marker that is not in SUITES below stops the run, so no file drops out of CI by a typo.
// A new suite (e.g. `mesh` for network namespaces and iptables as root) is one entry here, one `test:<suite>` script in package.json, one line in
// .ci/run and one row in the README's test table.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TEST_DIR = path.join(ROOT, 'dist', 'test');

/**
 * The suites beyond the default one, with what their tests need (checked before the run, so
 * a machine without it gets the install line, not 40 failures).
 */
const SUITES = {
  interop: {
    what: 'real Thrift peers (Debian thrift-compiler, python3-thrift, C++ libthrift) and openssl-made certificates',
    install:
      'apt-get install -y --no-install-recommends thrift-compiler python3-thrift libthrift-dev libboost-dev g++ zlib1g-dev openssl',
    needs: [
      ['thrift-compiler', () => existsSync('/usr/bin/thrift')],
      ['python3-thrift', () => spawnSync('/usr/bin/python3', ['-c', 'import thrift.protocol.THeaderProtocol'], { stdio: 'ignore' }).status === 0],
      ['libthrift-dev', () => existsSync('/usr/include/thrift/transport/THeaderTransport.h')],
      ['libboost-dev', () => existsSync('/usr/include/boost/version.hpp')],
      ['zlib1g-dev', () => existsSync('/usr/include/zlib.h')],
      ['g++', () => onPath('g++')],
      ['openssl', () => onPath('openssl')],
    ],
  },
  redis: {
    what: 'a real redis-server (global rate limiting)',
    install: 'apt-get install -y --no-install-recommends redis-server',
    needs: [['redis-server', () => onPath('redis-server')]],
  },
  mesh: {
    what: 'root, network namespaces, veth and iptables (two pods with the rules istio-iptables writes), and the original-destination addon (npm run build:native)',
    install: 'apt-get install -y --no-install-recommends iptables iproute2 util-linux g++ make python3',
    needs: [
      ['root', () => process.getuid?.() === 0],
      ['iptables', () => existsSync('/usr/sbin/iptables')],
      ['iproute2', () => existsSync('/usr/sbin/ip') || existsSync('/sbin/ip')],
      ['setpriv (util-linux)', () => existsSync('/usr/bin/setpriv')],
      ['the original-destination addon (npm run build:native)', () => existsSync(path.join(ROOT, 'native', 'original-dst', 'build', 'Release', 'original_dst.node'))],
    ],
  },
  image: {
    what: 'npm pack and an npm install --omit=dev of the tarball (the npm registry or a warm npm cache), about 70 s',
    install: 'nothing beyond Node 20 and npm',
    needs: [['npm', () => onPath('npm')]],
  },
};

function onPath(cmd) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && existsSync(path.join(dir, cmd)));
}

/** The suite a file belongs to: the marker before `.test.js`, or '' (the default suite). */
function suiteOf(file) {
  const m = /\.([a-z][a-z0-9-]*)\.test\.js$/.exec(path.basename(file));
  return m === null ? '' : m[1];
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === 'peers' || name === 'helpers' || name === 'fixtures' ? [] : walk(p);
    return p.endsWith('.test.js') ? [p] : [];
  });
}

const args = process.argv.slice(2);
const suiteFlag = args.indexOf('--suite');
const suite = suiteFlag < 0 ? undefined : args[suiteFlag + 1];
const filters = suiteFlag < 0 ? args : args.filter((_, i) => i !== suiteFlag && i !== suiteFlag + 1);
if (suite !== undefined && !(suite in SUITES)) {
  console.error(`unknown suite '${suite}' (suites: ${Object.keys(SUITES).join(', ')}; the default suite needs no --suite)`);
  process.exit(1);
}

const all = walk(TEST_DIR).sort();
const unknown = all.filter((f) => suiteOf(f) !== '' && !(suiteOf(f) in SUITES));
if (unknown.length > 0) {
  console.error(
    `test files with an unknown suite marker (known: ${Object.keys(SUITES).join(', ')}): ` +
      `${unknown.map((f) => path.relative(TEST_DIR, f)).join(', ')}. Add the suite to scripts/run-tests.mjs or rename the file.`,
  );
  process.exit(1);
}
const files = all.filter((f) =>
  filters.length > 0 && suite === undefined
    ? filters.some((s) => f.includes(s))
    : suiteOf(f) === (suite ?? '') && (filters.length === 0 || filters.some((s) => f.includes(s))),
);
const label = suite === undefined ? (filters.length > 0 ? 'matching files' : 'default suite') : `suite ${suite}`;
if (files.length === 0 && suite !== undefined && filters.length === 0) {
  // A suite can be known before its first test file lands (the runner and CI are ready).
  console.log(`suite ${suite}: no test files yet`);
  process.exit(0);
}
if (files.length === 0) {
  console.error(`no test files found under ${TEST_DIR} (${label}${filters.length ? `: ${filters.join(', ')}` : ''})`);
  process.exit(1);
}

// The run checks what the suites it runs need, and names the packages to install.
const missing = [...new Set(files.map(suiteOf))]
  .filter((s) => s !== '')
  .flatMap((s) => SUITES[s].needs.filter(([, present]) => !present()).map(([name]) => ({ suite: s, name })));
if (missing.length > 0) {
  const suites = [...new Set(missing.map((m) => m.suite))];
  console.error(
    `missing for the ${suites.join(', ')} tests: ${missing.map((m) => m.name).join(', ')}.\n` +
      suites.map((s) => `  ${s} needs ${SUITES[s].what}: apt-get update && ${SUITES[s].install}`).join('\n'),
  );
  process.exit(1);
}

// Each file's stdout/stderr (Meltemi's log lines) goes to .tmp/test-logs/<file>.log and is
// printed only when one of its tests fails (scripts/quiet-reporter.mjs).
rmSync(path.join(ROOT, '.tmp', 'test-logs'), { recursive: true, force: true });
console.log(`${label}: ${files.length} test files; their output is in .tmp/test-logs/, printed when a test fails`);

// One file at a time: several tests assert "answered at once" latencies, which a second
// file competing for the 2 cores would blur.
// No --test-force-exit: on Node 20 it can end a file before all of its tests ran, and the run
// still passes with fewer tests (seen: 204 of thrift-splits' 216). Every file must leave
// nothing running instead (the peer helpers stop sofa-rpc-node's and apache-dubbo-js's
// reconnect timers); a file that does not would hang the run, which the timeout turns into a
// failure that says so.
const TIMEOUT_MS = 20 * 60 * 1000;
const reporter = path.join(ROOT, 'scripts', 'quiet-reporter.mjs');
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', `--test-reporter=${reporter}`, ...files], {
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
