import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { NO_EXTENSIONS, extensionsOfBootstrap, loadExtensions, mergeExtensions } from '../codec-loader.js';
import type { ExtensionPackages } from '../codec-loader.js';
import { compileBootstrap } from './compile.js';
import type { CompileOptions, CompiledConfig } from './compile.js';
import { ConfigError } from './config-error.js';

/**
 * Reads an Envoy v3 bootstrap file (YAML or JSON), loads the codec and filter packages it
 * (`meltemi.codecs`, `meltemi.filters`) and `extensions` name, and compiles it.
 */
export async function loadBootstrapFile(path: string, extensions: ExtensionPackages = NO_EXTENSIONS, opts: CompileOptions = {}): Promise<CompiledConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${path}: ${(err as Error).message}`], path);
  }
  let doc: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    doc = parseYaml(text, { strict: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError([`${path} is not valid YAML or JSON: ${(err as Error).message}`], path);
  }
  await loadExtensions(mergeExtensions(extensionsOfBootstrap(doc), extensions));
  return compileBootstrap(doc, path, opts);
}
