import type { CodecFactory } from '../codecs/api/index.js';
import { BUILTIN_CODECS } from '../codecs/index.js';

/** Built-in codecs by registry name (Aeraki's names). */
const builtins = new Map<string, CodecFactory>(BUILTIN_CODECS.map((f) => [f.name, f]));

export function registerCodec(factory: CodecFactory): void {
  builtins.set(factory.name, factory);
}

export function findCodec(name: string): CodecFactory | undefined {
  return builtins.get(name);
}

export function codecNames(): string[] {
  return [...builtins.keys()];
}
