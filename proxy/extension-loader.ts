/**
 * Loads codec and filter packages named by the user (`--codec name=package`,
 * `--filter name=package`, or the bootstrap's `meltemi.codecs` / `meltemi.filters`) and
 * registers them, at start-up and before the bootstrap is compiled (compiling looks codecs
 * and filters up by name). Every failure is an {@link ExtensionLoadError} whose message says
 * what to fix: a missing package, a module that exports no factory, a factory registered
 * under another name, or an API version this build does not speak.
 */
import { ExtensionLoadError } from '../config/errors.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CODEC_API_VERSIONS, apiVersionProblem } from '../codecs/api/index.js';
import type { ApiVersionRange, CodecFactory } from '../codecs/api/index.js';
import { FILTER_API_VERSION } from '../filters/api/index.js';
import type { FilterFactory } from '../filters/api/index.js';
import { findCodec, registerCodec } from './codec-registry.js';
import { findFilter, registerFilter } from './filter-registry.js';

/** Extension packages by registry name: `{ 'aeraki.meta_protocol.codec.tern': 'meltemi-codec-tern' }`. */
export interface ExtensionPackages {
  readonly codecs: Readonly<Record<string, string>>;
  readonly filters: Readonly<Record<string, string>>;
}

export { ExtensionLoadError };

/** Where a specifier is a file path rather than a package name. */
function isPath(specifier: string): boolean {
  return specifier.startsWith('.') || path.isAbsolute(specifier) || specifier.startsWith('file:');
}

type ExportsValue = string | null | ExportsValue[] | { [key: string]: ExportsValue };

/** Picks the target of an `exports` entry for an ESM import under Node (`import`, `node`, `default`). */
function exportTarget(value: ExportsValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = exportTarget(v);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  for (const [condition, target] of Object.entries(value)) {
    if (condition === 'import' || condition === 'node' || condition === 'default') {
      const t = exportTarget(target);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

/**
 * The file an import of `subpath` ('.' for the package itself) of the package in `pkgDir`
 * loads, by its `exports` (conditions import, node, default), else its `main`.
 */
function packageEntry(pkgDir: string, subpath: string): string | undefined {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { exports?: ExportsValue; main?: string };
  const exp = pkg.exports;
  if (exp === undefined) return subpath === '.' ? path.join(pkgDir, pkg.main ?? 'index.js') : path.join(pkgDir, subpath);
  const entry = typeof exp === 'object' && exp !== null && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith('.')) ? exp[subpath] : subpath === '.' ? exp : undefined;
  const target = exportTarget(entry);
  return target === undefined ? undefined : path.join(pkgDir, target);
}

/**
 * Finds an ESM-only package (one whose `exports` has no `require` or `default` condition,
 * so `require.resolve` refuses it) in the `node_modules` folders above `fromDir`.
 */
function resolveImportOnly(specifier: string, fromDir: string): string | undefined {
  const parts = specifier.split('/');
  const nameParts = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameParts).join('/');
  const subpath = parts.length > nameParts ? `./${parts.slice(nameParts).join('/')}` : '.';
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const pkgDir = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(pkgDir, 'package.json'))) return packageEntry(pkgDir, subpath);
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The file `specifier` names, resolved as the user's own code would from `cwd`. */
export function resolveExtension(specifier: string, cwd: string): string {
  if (isPath(specifier)) {
    const file = specifier.startsWith('file:') ? new URL(specifier).pathname : path.resolve(cwd, specifier);
    if (!existsSync(file)) throw new ExtensionLoadError(`cannot find ${file}`);
    if (!statSync(file).isDirectory()) return file;
    // A folder is a package: its entry is what importing it by name would load.
    const entry = existsSync(path.join(file, 'package.json')) ? packageEntry(file, '.') : path.join(file, 'index.js');
    if (entry === undefined || !existsSync(entry)) throw new ExtensionLoadError(`${file} has no entry point to import (package.json "exports" or "main"; built yet?)`);
    return entry;
  }
  const require = createRequire(path.join(cwd, 'noop.js'));
  try {
    return require.resolve(specifier);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      const file = resolveImportOnly(specifier, cwd);
      if (file !== undefined) return file;
    }
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      throw new ExtensionLoadError(`cannot find package '${specifier}' from ${cwd} (install it there: npm install ${specifier})`);
    }
    throw new ExtensionLoadError(`cannot resolve '${specifier}' from ${cwd}: ${(err as Error).message}`);
  }
}

/** One kind of extension: how to recognise its factory and which API versions load. */
interface ExtensionKind<F> {
  readonly noun: 'codec' | 'filter';
  readonly exportName: string;
  readonly makerName: string;
  readonly versions: ApiVersionRange;
  readonly shape: string;
  isFactory(value: unknown): value is F;
}

function hasMethods(value: unknown, methods: string[]): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const o = value as Record<string, unknown>;
  return typeof o['name'] === 'string' && methods.every((m) => typeof o[m] === 'function');
}

const CODEC: ExtensionKind<CodecFactory> = {
  noun: 'codec',
  exportName: 'codecFactory',
  makerName: 'createCodecFactory',
  versions: CODEC_API_VERSIONS,
  shape: 'an object with name, protocol, apiVersion, createServerCodec() and createClientCodec()',
  isFactory: (v): v is CodecFactory => hasMethods(v, ['createServerCodec', 'createClientCodec']),
};

const FILTER: ExtensionKind<FilterFactory> = {
  noun: 'filter',
  exportName: 'filterFactory',
  makerName: 'createFilterFactory',
  versions: { min: 1, max: FILTER_API_VERSION },
  shape: 'an object with name, apiVersion and create(config)',
  isFactory: (v): v is FilterFactory => hasMethods(v, ['create']),
};

/** The factory a module exports: default export, the named export, or what the maker returns. */
async function findFactory<F>(ns: Record<string, unknown>, kind: ExtensionKind<F>): Promise<F | undefined> {
  for (const candidate of [ns['default'], ns[kind.exportName]]) {
    if (kind.isFactory(candidate)) return candidate;
  }
  const maker = ns[kind.makerName];
  if (typeof maker === 'function') {
    const made: unknown = await (maker as () => unknown)();
    if (kind.isFactory(made)) return made;
  }
  return undefined;
}

async function loadExtension<F extends { readonly name: string; readonly apiVersion?: number }>(
  kind: ExtensionKind<F>,
  name: string | undefined,
  specifier: string,
  cwd: string,
): Promise<F> {
  const what = name === undefined ? `${kind.noun} package ${specifier}` : `${kind.noun} '${name}' (${specifier})`;
  let file: string;
  try {
    file = resolveExtension(specifier, cwd);
  } catch (err) {
    throw new ExtensionLoadError(`${what}: ${(err as Error).message}`);
  }
  let ns: Record<string, unknown>;
  try {
    ns = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ExtensionLoadError(`${what}: ${file} failed to load: ${(err as Error).message}`);
  }
  const factory = await findFactory(ns, kind);
  if (factory === undefined) {
    const found = Object.keys(ns).join(', ') || 'nothing';
    throw new ExtensionLoadError(
      `${what}: ${file} exports no ${kind.noun} factory; expected a default export or a named '${kind.exportName}' (${kind.shape}), or a '${kind.makerName}()' function returning one (it exports: ${found})`,
    );
  }
  if (name !== undefined && factory.name !== name) {
    throw new ExtensionLoadError(`${what}: the package's ${kind.noun} is named '${factory.name}', not '${name}'; use --${kind.noun} ${factory.name}=${specifier} and that name in the config`);
  }
  const problem = apiVersionProblem(factory.apiVersion, kind.versions, `${kind.noun} API`);
  if (problem !== undefined) throw new ExtensionLoadError(`${what} ${problem}`);
  return factory;
}

/**
 * Imports the codec package `specifier` (a package name or a path, resolved from `cwd`) and
 * returns its factory, checked (shape, API version, and name when `name` is given) but not
 * registered. The conformance kit's command uses it.
 */
export async function importCodecFactory(specifier: string, cwd = process.cwd(), name?: string): Promise<CodecFactory> {
  return loadExtension(CODEC, name, specifier, cwd);
}

/** Loads the codec package `specifier` (a package name or a path, resolved from `cwd`) and registers it as `name`. */
export async function loadCodecPackage(name: string, specifier: string, cwd = process.cwd()): Promise<CodecFactory> {
  const factory = await loadExtension(CODEC, name, specifier, cwd);
  const existing = findCodec(name);
  if (existing !== undefined && existing !== factory) throw new ExtensionLoadError(`codec '${name}' (${specifier}): a codec with that name is already registered (built-in or loaded from another package)`);
  registerCodec(factory);
  return factory;
}

/** Loads the filter package `specifier` (a package name or a path, resolved from `cwd`) and registers it as `name`. */
export async function loadFilterPackage(name: string, specifier: string, cwd = process.cwd()): Promise<FilterFactory> {
  const factory = await loadExtension(FILTER, name, specifier, cwd);
  const existing = findFilter(name);
  if (existing !== undefined && existing !== factory) throw new ExtensionLoadError(`filter '${name}' (${specifier}): a filter with that name is already registered (built-in or loaded from another package)`);
  registerFilter(factory);
  return factory;
}

/** Loads and registers every package of `packages`; the first failure stops the start. */
export async function loadExtensions(packages: ExtensionPackages, cwd = process.cwd()): Promise<void> {
  for (const [name, specifier] of Object.entries(packages.codecs)) await loadCodecPackage(name, specifier, cwd);
  for (const [name, specifier] of Object.entries(packages.filters)) await loadFilterPackage(name, specifier, cwd);
}

/** No extension packages. */
export const NO_EXTENSIONS: ExtensionPackages = Object.freeze({ codecs: Object.freeze({}), filters: Object.freeze({}) });

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The packages a parsed bootstrap names in `meltemi.codecs` and `meltemi.filters`. Values of
 * the wrong type are left for the bootstrap validation to report with their field path.
 */
export function extensionsOfBootstrap(doc: unknown): ExtensionPackages {
  const meltemi = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['meltemi'] : undefined;
  if (typeof meltemi !== 'object' || meltemi === null) return NO_EXTENSIONS;
  const m = meltemi as Record<string, unknown>;
  return { codecs: stringMap(m['codecs']), filters: stringMap(m['filters']) };
}

/** `a` then `b`; a name given in both takes `b`'s package (the command line beats the file). */
export function mergeExtensions(a: ExtensionPackages, b: ExtensionPackages): ExtensionPackages {
  return { codecs: { ...a.codecs, ...b.codecs }, filters: { ...a.filters, ...b.filters } };
}

/** Parses `name=package` command-line values (`--codec`, `--filter`). */
export function parseExtensionFlags(values: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new ExtensionLoadError(`--${flag} ${v}: expected <name>=<package or path>`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}
