/**
 * Loading codec and filter packages by name or path: what is found, what is registered, and
 * the message for each way a package can be wrong.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { findCodec } from '../../proxy/codec-registry.js';
import { compileBootstrap } from '../../proxy/config/compile.js';
import {
  ExtensionLoadError,
  extensionsOfBootstrap,
  importCodecFactory,
  loadCodecPackage,
  loadExtensions,
  loadFilterPackage,
  mergeExtensions,
  parseExtensionFlags,
} from '../../proxy/extension-loader.js';
import { findFilter } from '../../proxy/filter-registry.js';
import { bootstrapOf, metaProtocolListener } from '../helpers/bootstrap.js';

const root = mkdtempSync(path.join(tmpdir(), 'meltemi-loader-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A codec factory as JavaScript source (its codecs are never used here). */
const factorySource = (name: string, apiVersion: number | undefined): string =>
  `{ name: ${JSON.stringify(name)}, protocol: 'test', ${apiVersion === undefined ? '' : `apiVersion: ${apiVersion},`} createServerCodec() { return {}; }, createClientCodec() { return {}; } }`;

function writePackage(name: string, files: Record<string, string>, manifest: Record<string, unknown> = {}): void {
  const dir = path.join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js', ...manifest }));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
}

writePackage('codec-default', { 'index.js': `export default ${factorySource('test.default', 1)};` });
// ESM-only exports (no "default"/"require" condition): require.resolve refuses it.
writePackage('codec-import-only', { 'main.js': `export const codecFactory = ${factorySource('test.import-only', 1)};` }, { exports: { '.': { import: './main.js' } } });
writePackage('codec-maker', { 'index.js': `export async function createCodecFactory() { return ${factorySource('test.maker', 1)}; }` });
writePackage('codec-none', { 'index.js': 'export const helper = 1; export default 42;' });
writePackage('codec-future', { 'index.js': `export default ${factorySource('test.future', 99)};` });
writePackage('codec-unversioned', { 'index.js': `export default ${factorySource('test.unversioned', undefined)};` });
writePackage('codec-broken', { 'index.js': "throw new Error('top-level failure');" });
writePackage('filter-pkg', {
  'index.js': "export default { name: 'test.stamp', apiVersion: 1, create() { return () => ({ onRequest() { return 0; } }); } };",
  'unversioned.js': "export const filterFactory = { name: 'test.old-filter', create() { return () => ({ onRequest() { return 0; } }); } };",
}, { exports: { '.': './index.js', './unversioned': './unversioned.js' } });
mkdirSync(path.join(root, 'local'), { recursive: true });
writeFileSync(path.join(root, 'local', 'codec.mjs'), `export default ${factorySource('test.local', 1)};`);

async function loadError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => assert.fail('expected the load to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ExtensionLoadError, String(err));
  return err.message;
}

describe('codec packages', () => {
  test('a default export is found, checked and registered under its name', async () => {
    const f = await loadCodecPackage('test.default', 'codec-default', root);
    assert.equal(f.name, 'test.default');
    assert.equal(findCodec('test.default'), f);
  });

  test('a named codecFactory of an import-only package, and a createCodecFactory() maker', async () => {
    assert.equal((await loadCodecPackage('test.import-only', 'codec-import-only', root)).name, 'test.import-only');
    assert.equal((await loadCodecPackage('test.maker', 'codec-maker', root)).name, 'test.maker');
  });

  test('a path is resolved from the working directory', async () => {
    assert.equal((await loadCodecPackage('test.local', './local/codec.mjs', root)).name, 'test.local');
    assert.equal((await importCodecFactory(path.join(root, 'local', 'codec.mjs'), '/')).name, 'test.local');
  });

  test('a missing package says where it looked and how to install it', async () => {
    const m = await loadError(loadCodecPackage('test.nope', 'meltemi-codec-nope', root));
    assert.match(m, /codec 'test\.nope' \(meltemi-codec-nope\): cannot find package 'meltemi-codec-nope' from .* \(install it there: npm install meltemi-codec-nope\)/);
    assert.match(await loadError(loadCodecPackage('test.nope', './missing.js', root)), /cannot find .*missing\.js/);
  });

  test('a package without a factory lists what it exports', async () => {
    const m = await loadError(loadCodecPackage('test.none', 'codec-none', root));
    assert.match(m, /exports no codec factory; expected a default export or a named 'codecFactory'.*\(it exports: default, helper\)/);
  });

  test('an incompatible or missing API version is refused', async () => {
    assert.match(await loadError(loadCodecPackage('test.future', 'codec-future', root)), /targets codec API version 99, newer than this Meltemi supports \(1\)/);
    assert.match(await loadError(loadCodecPackage('test.unversioned', 'codec-unversioned', root)), /declares no codec API version/);
    assert.equal(findCodec('test.future'), undefined);
  });

  test('a name mismatch, a module that throws, and a clash with a built-in are refused', async () => {
    assert.match(await loadError(loadCodecPackage('test.other', 'codec-default', root)), /the package's codec is named 'test\.default', not 'test\.other'/);
    assert.match(await loadError(loadCodecPackage('test.broken', 'codec-broken', root)), /failed to load: top-level failure/);
    writePackage('codec-clash', { 'index.js': `export default ${factorySource('aeraki.meta_protocol.codec.dubbo', 1)};` });
    assert.match(await loadError(loadCodecPackage('aeraki.meta_protocol.codec.dubbo', 'codec-clash', root)), /already registered/);
  });
});

describe('filter packages', () => {
  test('are loaded the same way, by package or subpath, with a required apiVersion', async () => {
    const f = await loadFilterPackage('test.stamp', 'filter-pkg', root);
    assert.equal(findFilter('test.stamp'), f);
    assert.match(await loadError(loadFilterPackage('test.old-filter', 'filter-pkg/unversioned', root)), /declares no filter API version/);
  });
});

describe('naming packages in the bootstrap and on the command line', () => {
  test('--codec/--filter values parse as name=package, and the command line wins', () => {
    const cli = { codecs: parseExtensionFlags(['a.b=pkg-one', 'c=./x.js'], 'codec'), filters: parseExtensionFlags(['f=pkg=odd'], 'filter') };
    assert.deepEqual(cli, { codecs: { 'a.b': 'pkg-one', c: './x.js' }, filters: { f: 'pkg=odd' } });
    assert.throws(() => parseExtensionFlags(['nopackage'], 'codec'), /--codec nopackage: expected <name>=<package or path>/);
    const fromFile = extensionsOfBootstrap({ meltemi: { codecs: { 'a.b': 'pkg-two', d: 'pkg-d' } } });
    assert.deepEqual(mergeExtensions(fromFile, cli).codecs, { 'a.b': 'pkg-one', d: 'pkg-d', c: './x.js' });
  });

  test('meltemi.codecs and meltemi.filters pass validation and a loaded codec compiles', async () => {
    await loadExtensions({ codecs: { 'test.default': 'codec-default' }, filters: {} }, root);
    const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }] })], [], { codecs: { 'test.default': 'codec-default' }, filters: { 'test.stamp': 'filter-pkg' } });
    assert.doesNotThrow(() => compileBootstrap(doc));
    const bad = bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }] })], [], { codecs: { x: 3 } });
    assert.throws(() => compileBootstrap(bad), /meltemi\.codecs\.x: expected a string/);
  });
});
