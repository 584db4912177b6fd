/** The programmatic API: start a proxy from a bootstrap document or file. */
import { extensionsOfBootstrap, loadExtensions } from './extension-loader.js';
import { compileBootstrap } from './config/compile.js';
import { loadBootstrapFile } from './config/load-bootstrap.js';
import { MeltemiServer } from './server.js';

export { ConfigError } from '../config/errors.js';
export { compileBootstrap } from './config/compile.js';
export type { CompiledConfig } from './config/compile.js';
export { registerCodec } from './codec-registry.js';
export { ExtensionLoadError, loadCodecPackage, loadExtensions, loadFilterPackage } from './extension-loader.js';
export type { ExtensionPackages } from './extension-loader.js';
export { registerFilter } from './filter-registry.js';
export { MeltemiServer } from './server.js';

/**
 * Starts a proxy from a bootstrap object (the parsed YAML/JSON), after loading the codec and
 * filter packages its `meltemi.codecs` / `meltemi.filters` name.
 */
export async function startMeltemi(bootstrap: unknown): Promise<MeltemiServer> {
  await loadExtensions(extensionsOfBootstrap(bootstrap));
  return MeltemiServer.start(compileBootstrap(bootstrap));
}

/** Starts a proxy from a bootstrap file. */
export async function startMeltemiFromFile(path: string): Promise<MeltemiServer> {
  return MeltemiServer.start(await loadBootstrapFile(path));
}
