/**
 * The sample frames a codec author gives the conformance kit, and their normalised form.
 * Frames may be given as bytes or as hex text (spaces and newlines ignored), so the same
 * samples serve a TypeScript test and the `meltemi-codec-kit` command's JSON/YAML file.
 */
import type { RequestId } from '../api/index.js';

/** One frame: bytes, hex text, or either with a name that failure messages use. */
export type SampleFrame = Uint8Array | string | { readonly name: string; readonly bytes: Uint8Array | string };

/** What the kit runs a codec on. */
export interface CodecSamples {
  /** Complete request frames as a client sends them (at least one). */
  readonly requests: readonly SampleFrame[];
  /** Complete response frames as a server sends them. */
  readonly responses: readonly SampleFrame[];
  /** For protocols with heartbeats: a heartbeat a client sends and, optionally, the exact reply expected. */
  readonly heartbeat?: { readonly request: SampleFrame; readonly reply?: SampleFrame };
  /** The codec's own settings (`codec.config` in the proxy config). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** Passed as `maxFrameSize` (default 8 MiB, the proxy's default). */
  readonly maxFrameSize?: number;
  /**
   * Ids to rewrite to, besides the kit's own (1 up to 2^31 - 1, the range the proxy assigns
   * upstream). Give the protocol's large ids here, e.g. `"18446744073709551615"` for a
   * 64-bit id (strings are read as integers so JSON can carry them).
   */
  readonly requestIds?: readonly (number | bigint | string)[];
}

/** A sample frame, normalised. */
export interface Sample {
  readonly label: string;
  readonly bytes: Buffer;
}

/** Samples, normalised: bytes, labels, ids as {@link RequestId}s. */
export interface NormalizedSamples {
  readonly requests: readonly Sample[];
  readonly responses: readonly Sample[];
  readonly heartbeat: { readonly request: Sample; readonly reply: Sample | undefined } | undefined;
  readonly options: Readonly<Record<string, unknown>>;
  readonly maxFrameSize: number;
  readonly requestIds: readonly RequestId[];
}

/** Ids the proxy itself writes: small, at varint and byte-size boundaries, and the largest. */
export const DEFAULT_REQUEST_IDS: readonly RequestId[] = [1, 2, 127, 128, 255, 256, 16_383, 16_384, 65_535, 65_536, 0x7fff_ffff];

const DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024;

function bytesOf(value: Uint8Array | string, label: string): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value !== 'string') throw new TypeError(`${label}: expected bytes or hex text, got ${String(value)}`);
  const hex = value.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError(`${label}: not hex text (${value.slice(0, 40)}...)`);
  return Buffer.from(hex, 'hex');
}

function sample(frame: SampleFrame, label: string): Sample {
  if (typeof frame === 'object' && !(frame instanceof Uint8Array)) {
    const named = `${label} (${frame.name})`;
    return { label: named, bytes: bytesOf(frame.bytes, named) };
  }
  return { label, bytes: bytesOf(frame, label) };
}

/** Normalises an id the way codecs report them: a number when safe, else a bigint. */
export function normalizeId(id: number | bigint | string): RequestId {
  const big = typeof id === 'bigint' ? id : BigInt(id);
  if (big < 0n) throw new RangeError(`request id ${id} is negative`);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Checks and normalises `samples`; throws a TypeError naming the bad entry. */
export function normalizeSamples(samples: CodecSamples): NormalizedSamples {
  if (!Array.isArray(samples.requests) || samples.requests.length === 0) throw new TypeError('samples.requests: give at least one request frame');
  if (!Array.isArray(samples.responses)) throw new TypeError('samples.responses: expected a list (it may be empty)');
  const ids = [...DEFAULT_REQUEST_IDS];
  for (const id of samples.requestIds ?? []) {
    const n = normalizeId(id);
    if (!ids.includes(n)) ids.push(n);
  }
  const hb = samples.heartbeat;
  return {
    requests: samples.requests.map((f, i) => sample(f, `request #${i}`)),
    responses: samples.responses.map((f, i) => sample(f, `response #${i}`)),
    heartbeat: hb === undefined ? undefined : { request: sample(hb.request, 'heartbeat'), reply: hb.reply === undefined ? undefined : sample(hb.reply, 'heartbeat reply') },
    options: samples.options ?? {},
    maxFrameSize: samples.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
    requestIds: ids,
  };
}
