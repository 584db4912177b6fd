/**
 * The container image's runtime stage without a container engine: the Dockerfile's own
 * `npm pack` + `npm install --omit=dev` (its flags are read from the Dockerfile, so the two
 * cannot drift apart) build the same file tree in an empty folder, and Meltemi started from
 * that tree with a real bootstrap must serve a Dubbo call to a real peer and answer its admin.
 * Slow (npm install from the registry or npm's cache, ~70 s): suite `image`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { collect, loggedAdminUrl } from '../helpers/cli-process.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const dockerfile = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');

/** The flags of the Dockerfile's `npm install --omit=dev ... /tmp/meltemi.tgz`. */
function dockerfileInstallFlags(): string[] {
  const m = /npm install (--omit=dev[^\n]*?) \/tmp\/meltemi\.tgz/.exec(dockerfile);
  assert.ok(m, 'the Dockerfile installs the packed tarball with npm install --omit=dev');
  return m[1]!.split(/\s+/);
}

const work = mkdtempSync(path.join(tmpdir(), 'meltemi-runtime-'));
const app = path.join(work, 'opt-meltemi');
let provider: Provider;

before(async () => {
  provider = await startSofaProvider({ name: 'image' });
});
after(async () => {
  await provider.close();
});

test('the Dockerfile is multi-stage, runs as uid 1337, has an exec-form entrypoint and a readiness HEALTHCHECK', () => {
  assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2);
  assert.match(dockerfile, /^USER 1337:1337$/m);
  assert.match(dockerfile, /^ENTRYPOINT \["node", "\/opt\/meltemi\/node_modules\/meltemi\/dist\/proxy\/cli\.js"\]$/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\n\s+CMD \["node", "-e", .*MELTEMI_READY_URL/m);
  assert.match(dockerfile, /MELTEMI_READY_URL=http:\/\/127\.0\.0\.1:15000\/ready/);
});

test('the production install of the packed tarball serves a Dubbo call and its admin', { timeout: 240_000 }, async (t) => {
  // Stage 1: the tarball (dist/ is this test's own build).
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, stdio: 'pipe' });
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz !== undefined, 'npm pack made a tarball');
  // Stage 2: the production install into an empty folder, with the Dockerfile's flags.
  mkdirSync(app);
  const started = Date.now();
  execFileSync('npm', ['install', ...dockerfileInstallFlags(), '--prefer-offline', path.join(work, tgz)], { cwd: app, stdio: 'pipe' });
  t.diagnostic(`npm install --omit=dev: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const modules = path.join(app, 'node_modules');
  const cli = path.join(modules, 'meltemi', 'dist', 'proxy', 'cli.js');
  assert.ok(existsSync(cli), 'the entrypoint of the image exists in the tree');
  for (const dev of ['typescript', 'eslint', 'sofa-rpc-node', 'tsx']) assert.equal(existsSync(path.join(modules, dev)), false, `dev dependency ${dev} is not shipped`);
  assert.equal(existsSync(path.join(modules, 'meltemi', 'dist', 'test')), false, 'tests are not shipped');

  const file = path.join(work, 'bootstrap.yaml');
  const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }] })], [staticCluster('demo', [provider.port])], undefined, {
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  });
  writeFileSync(file, stringify(doc));
  // As the image runs it: node on the installed cli.js, cwd the install folder, production env.
  const child = spawn(process.execPath, [cli, '-c', file, '--concurrency', '1'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', MELTEMI_LOG_LEVEL: 'info' },
  });
  const out = collect(child);
  try {
    const admin = await loggedAdminUrl(out);
    assert.equal((await fetch(`${admin}/ready`)).status, 200);
    const listeners = (await (await fetch(`${admin}/listeners?format=json`)).json()) as { listener_statuses: { local_address: string }[] };
    const consumer = await createSofaConsumer(listeners.listener_statuses[0]!.local_address);
    assert.equal(await consumer.invoke('sayHello', [java.String('image')]), 'hello image from image');
    assert.match(await (await fetch(`${admin}/stats`)).text(), /^meta_protocol\.dubbo\.main\.request: 1$/m);
    const memory = (await (await fetch(`${admin}/memory`)).json()) as Record<string, unknown>;
    t.diagnostic(`memory after start and one call: ${JSON.stringify(memory)}`);
    await consumer.close();
  } finally {
    child.kill('SIGTERM');
  }
  const r = await out.done;
  assert.equal(r.code, 0, r.stderr);
});
