import type { CodecFactory } from '../codecs/api/index.js';
import { brpcCodecFactory } from '../codecs/brpc/index.js';
import { dubboCodecFactory } from '../codecs/dubbo/index.js';
import { thriftCodecFactory } from '../codecs/thrift/index.js';
import { trpcCodecFactory } from '../codecs/trpc/index.js';

/** Built-in codecs by registry name (Aeraki's names). */
const builtins = new Map<string, CodecFactory>(
  [dubboCodecFactory, thriftCodecFactory, brpcCodecFactory, trpcCodecFactory].map((f) => [f.name, f]),
);

export function registerCodec(factory: CodecFactory): void {
  builtins.set(factory.name, factory);
}

export function findCodec(name: string): CodecFactory | undefined {
  return builtins.get(name);
}

export function codecNames(): string[] {
  return [...builtins.keys()];
}
