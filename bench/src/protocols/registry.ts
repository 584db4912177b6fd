// Protocols by name. Dubbo and Thrift are built into the bench; bRPC and tRPC run through the
// codec SPI with Meltemi's own codecs from ../dist (so they need the proxy built); `custom`
// loads a codec package's CodecBenchAdapter from --codec-module.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { brpcAdapter } from './brpc.ts';
import { codecProtocol, type CodecBenchAdapter, type FrameReaderClass, type SpiCodecFactory } from './codec-spi.ts';
import { dubboProtocol } from './dubbo.ts';
import type { BenchProtocol } from './protocol.ts';
import { thriftProtocol } from './thrift.ts';
import { trpcAdapter } from './trpc.ts';

export const PROTOCOL_NAMES = ['dubbo', 'thrift-binary', 'thrift-compact', 'brpc', 'trpc', 'custom'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** The proxy's build output, from which the SPI protocols take their codecs. */
const PROXY_DIST = new URL('../../../dist/', import.meta.url);

export function isProtocolName(s: string): s is ProtocolName {
  return (PROTOCOL_NAMES as readonly string[]).includes(s);
}

/** Loads a protocol; `codecModule` is required for (and only used by) `custom`. */
export async function loadProtocol(name: ProtocolName, codecModule: string | undefined): Promise<BenchProtocol> {
  switch (name) {
    case 'dubbo':
      return dubboProtocol;
    case 'thrift-binary':
      return thriftProtocol('binary');
    case 'thrift-compact':
      return thriftProtocol('compact');
    case 'brpc':
      return codecProtocol(brpcAdapter(await proxyFactory('brpc', 'brpcCodecFactory')), await frameReader());
    case 'trpc':
      return codecProtocol(trpcAdapter(await proxyFactory('trpc', 'trpcCodecFactory')), await frameReader());
    case 'custom': {
      if (codecModule === undefined) throw new Error('protocol custom needs --codec-module <file>');
      const adapter = await loadAdapter(codecModule);
      return codecProtocol(adapter, await frameReader(), codecPackagePath(adapter, codecModule));
    }
  }
}

async function importFromProxy(path: string): Promise<Record<string, unknown>> {
  const url = new URL(path, PROXY_DIST);
  if (!existsSync(url)) {
    throw new Error(`${fileURLToPath(url)} is missing: build the proxy first (cd .. && npm run build); bRPC, tRPC and custom codecs use its codec API`);
  }
  return (await import(url.href)) as Record<string, unknown>;
}

async function proxyFactory(dir: string, exportName: string): Promise<SpiCodecFactory> {
  const mod = await importFromProxy(`codecs/${dir}/index.js`);
  const f = mod[exportName];
  if (!isFactory(f)) throw new Error(`dist/codecs/${dir}/index.js has no codec factory ${exportName}`);
  return f;
}

async function frameReader(): Promise<FrameReaderClass> {
  const mod = await importFromProxy('codecs/api/index.js');
  if (typeof mod['FrameReader'] !== 'function') throw new Error('dist/codecs/api/index.js exports no FrameReader');
  return mod['FrameReader'] as FrameReaderClass;
}

/** Imports a codec package's bench adapter: `export const benchAdapter` or the default export. */
export async function loadAdapter(file: string): Promise<CodecBenchAdapter> {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`codec module not found: ${file}`);
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const a = (mod['benchAdapter'] ?? mod['default']) as Partial<CodecBenchAdapter> | undefined;
  const missing = ['name', 'factory', 'routeMatch', 'minFrameSize', 'requestFrame', 'responseFrame'].filter(
    (k) => a === undefined || a === null || (a as Record<string, unknown>)[k] === undefined,
  );
  if (a === undefined || missing.length > 0) {
    throw new Error(`${file}: exports no CodecBenchAdapter as benchAdapter or default (missing ${missing.join(', ')})`);
  }
  if (!isFactory(a.factory)) throw new Error(`${file}: benchAdapter.factory is not a codec factory (name, createServerCodec, createClientCodec)`);
  return a as CodecBenchAdapter;
}

/** The adapter's codecPackage as Meltemi should see it: paths made absolute from the adapter module's folder. */
function codecPackagePath(adapter: CodecBenchAdapter, codecModule: string): string | undefined {
  const spec = adapter.codecPackage;
  if (spec === undefined) return undefined;
  return spec.startsWith('.') || spec.startsWith('/') ? resolve(dirname(resolve(codecModule)), spec) : spec;
}

function isFactory(f: unknown): f is SpiCodecFactory {
  if (typeof f !== 'object' || f === null) return false;
  const r = f as Record<string, unknown>;
  return typeof r['name'] === 'string' && typeof r['createServerCodec'] === 'function' && typeof r['createClientCodec'] === 'function';
}
