import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { NO_EXTENSIONS, extensionsOfBootstrap, loadExtensions, mergeExtensions } from '../extension-loader.js';
import type { ExtensionPackages } from '../extension-loader.js';
import { compileBootstrap } from './compile.js';
import type { CompileOptions, CompiledConfig } from './compile.js';
import { ConfigError } from '../../config/errors.js';
import { mergeBootstrap } from './merge-bootstrap.js';

/** A bootstrap fragment merged over the file, and the flag it came from (for errors). */
export interface BootstrapOverride {
  yaml: string;
  source: string;
}

function parseBootstrapText(text: string, what: string): unknown {
  try {
    // YAML is a superset of JSON, so one parser reads both.
    return parseYaml(text, { strict: true, uniqueKeys: true });
  } catch (err) {
    throw new ConfigError([`${what} is not valid YAML or JSON: ${(err as Error).message}`], what);
  }
}

/**
 * Reads an Envoy v3 bootstrap file (YAML or JSON), merges each of `overrides` (Envoy's
 * `--config-yaml`, then the node flags) over it in order, loads the codec and filter packages it (`meltemi.codecs`,
 * `meltemi.filters`) and `extensions` name, and compiles it. With no file (`path`
 * undefined) the bootstrap is the overrides alone, as in Envoy.
 */
export async function loadBootstrapFile(
  path: string | undefined,
  extensions: ExtensionPackages = NO_EXTENSIONS,
  opts: CompileOptions = {},
  overrides: readonly BootstrapOverride[] = [],
): Promise<CompiledConfig> {
  let doc: unknown;
  if (path !== undefined) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError([`cannot read ${path}: ${(err as Error).message}`], path);
    }
    doc = parseBootstrapText(text, path);
  }
  for (const o of overrides) doc = mergeBootstrap(doc, parseBootstrapText(o.yaml, o.source), o.source);
  await loadExtensions(mergeExtensions(extensionsOfBootstrap(doc), extensions));
  return compileBootstrap(doc, path ?? overrides[0]?.source ?? 'bootstrap', opts);
}
