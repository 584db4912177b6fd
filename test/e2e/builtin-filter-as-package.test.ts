/**
 * A built-in filter is writable as an external package. The fault filter's own sources
 * (filters/fault) are copied into a fresh npm package whose only Meltemi imports are the
 * public exports `meltemi/filter`, `meltemi/codec` and `meltemi/config`; the package is type
 * checked and compiled with tsc against the installed `meltemi` types, loaded by name like
 * any filter package, and aborts a Dubbo call exactly as the built-in does. A relative import
 * that leaves the filter's folder (a reach into the runtime) fails the test: there would be
 * no public export to rewrite it to.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadFilterPackage, startMeltemi } from '../../proxy/index.js';
import type { MeltemiServer } from '../../proxy/index.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest, hessianDecodeAll } from '../helpers/dubbo-frames.js';
import { RawDubboClient } from '../helpers/raw-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.includes(`${path.sep}dist${path.sep}`);
/** The repository root; `meltemi` resolves to it (dist/ built, as `npm test` does). */
const repoRoot = path.resolve(here, '..', '..', compiled ? '..' : '');
const FILTER_DIR = path.join(repoRoot, 'filters', 'fault');

/** Where each import a built-in filter may use is found by a package. */
const PUBLIC_EXPORTS: Record<string, string> = {
  '../api/index.js': 'meltemi/filter',
  '../../codecs/api/index.js': 'meltemi/codec',
  '../../config/index.js': 'meltemi/config',
};

const app = mkdtempSync(path.join(tmpdir(), 'meltemi-filter-package-'));
const pkg = path.join(app, 'node_modules', 'meltemi-filter-fault');
let server: MeltemiServer | undefined;
let client: RawDubboClient | undefined;

after(async () => {
  client?.close();
  await server?.close();
  rmSync(app, { recursive: true, force: true });
});

/** Copies the filter's sources, rewriting only import specifiers; returns what could not be rewritten. */
function copyFilterSources(): string[] {
  const strays: string[] = [];
  mkdirSync(path.join(pkg, 'src'), { recursive: true });
  for (const file of readdirSync(FILTER_DIR).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(path.join(FILTER_DIR, file), 'utf8').replace(/from '(\.[^']+)'/g, (whole, spec: string) => {
      if (spec.startsWith('./')) return whole; // the filter's own files travel with it
      const target = PUBLIC_EXPORTS[spec];
      if (target === undefined) strays.push(`${file}: ${spec}`);
      return `from '${target ?? spec}'`;
    });
    writeFileSync(path.join(pkg, 'src', file), source);
  }
  return strays;
}

test('the fault filter, built from its own sources as a package, loads by name and aborts calls', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(path.join(repoRoot, 'dist', 'filters', 'api', 'index.d.ts')), 'build Meltemi first (npm run build)');
  mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  symlinkSync(repoRoot, path.join(app, 'node_modules', 'meltemi'), 'dir');

  assert.deepEqual(copyFilterSources(), [], 'filters/fault reaches past the public exports');
  // The package's entry: the built-in factory under the package's own name and API version.
  writeFileSync(
    path.join(pkg, 'src', 'package-entry.ts'),
    [
      "import { FILTER_API_VERSION } from 'meltemi/filter';",
      "import type { FilterFactory } from 'meltemi/filter';",
      "import { faultFilterFactory } from './index.js';",
      "export const filterFactory: FilterFactory = { ...faultFilterFactory, name: 'example.filters.fault', apiVersion: FILTER_API_VERSION };",
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'meltemi-filter-fault', version: '1.0.0', type: 'module', exports: './dist/package-entry.js' }));
  writeFileSync(
    path.join(pkg, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        rootDir: 'src',
        outDir: 'dist',
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
      },
      include: ['src'],
    }),
  );
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: pkg, stdio: 'pipe' });
  } catch (err) {
    const out = err as { stdout?: Buffer; stderr?: Buffer };
    assert.fail(`the filter package does not compile against meltemi's public types:\n${String(out.stdout)}${String(out.stderr)}`);
  }

  const factory = await loadFilterPackage('example.filters.fault', 'meltemi-filter-fault', app);
  assert.equal(factory.name, 'example.filters.fault');

  server = await startMeltemi(
    bootstrapOf(
      [
        metaProtocolListener({
          routes: [{ name: 'all', cluster: 'nowhere' }],
          extra: {
            meta_protocol_filters: [
              { name: 'example.filters.fault', config: { headers: [{ name: 'method', exact_match: 'sayHello' }], abort: { error_type: 'OverLimit', message: 'aborted by a package' } } },
              { name: 'aeraki.meta_protocol.filters.router' },
            ],
          },
        }),
      ],
      [staticCluster('nowhere', [1])],
    ),
  );
  client = await RawDubboClient.connect(server.listenerPort('main'));
  client.write(dubboRequest({ id: 7, interface: 'org.example.Greeter', method: 'sayHello', args: ['x'] }));
  await client.until(() => client!.frames.length === 1, 5000, 'the abort reply');
  const reply = client.frames[0]!;
  assert.equal(reply.id, 7n);
  assert.notEqual(reply.status, 20, 'the aborted call must not succeed');
  assert.match(hessianDecodeAll(reply.body).map(String).join(' '), /aborted by a package/);
});
