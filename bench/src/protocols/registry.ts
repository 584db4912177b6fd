// Protocols by name. Dubbo and Thrift are built into the bench; bRPC and tRPC run through the
// codec SPI with Meltemi's own codecs, taken from the package's public exports
// (`meltemi/codec`, `meltemi/codecs`: the bench depends on file:.., so the proxy must be
// built); `custom` loads a codec package's CodecBenchAdapter from --codec-module.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brpcAdapter } from './brpc.ts';
import { codecProtocol, type CodecBenchAdapter, type FrameReaderClass, type SpiCodecFactory } from './codec-spi.ts';
import { dubboProtocol } from './dubbo.ts';
import type { BenchProtocol } from './protocol.ts';
import { thriftProtocol } from './thrift.ts';
import { trpcAdapter } from './trpc.ts';

export const PROTOCOL_NAMES = ['dubbo', 'thrift-binary', 'thrift-compact', 'brpc', 'trpc', 'custom'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/**
 * Meltemi's public exports the SPI protocols use. Named through variables so that the bench's
 * type check does not need the proxy built: the bench has its own structural types of the
 * SPI (codec-spi.ts).
 */
const CODEC_API = 'meltemi/codec';
const BUILTIN_CODECS = 'meltemi/codecs';

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
      return codecProtocol(brpcAdapter(await proxyFactory('brpcCodecFactory')), await frameReader());
    case 'trpc':
      return codecProtocol(trpcAdapter(await proxyFactory('trpcCodecFactory')), await frameReader());
    case 'custom': {
      if (codecModule === undefined) throw new Error('protocol custom needs --codec-module <file>');
      const adapter = await loadAdapter(codecModule);
      return codecProtocol(adapter, await frameReader(), codecPackagePath(adapter, codecModule));
    }
  }
}

async function importFromMeltemi(specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`cannot import ${specifier}: build the proxy first (cd .. && npm run build) and install the bench (npm install); bRPC, tRPC and custom codecs use its codec API (${String(err)})`);
  }
}

async function proxyFactory(exportName: string): Promise<SpiCodecFactory> {
  const f = (await importFromMeltemi(BUILTIN_CODECS))[exportName];
  if (!isFactory(f)) throw new Error(`${BUILTIN_CODECS} has no codec factory ${exportName}`);
  return f;
}

async function frameReader(): Promise<FrameReaderClass> {
  const mod = await importFromMeltemi(CODEC_API);
  if (typeof mod['FrameReader'] !== 'function') throw new Error(`${CODEC_API} exports no FrameReader`);
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
