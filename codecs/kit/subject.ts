/**
 * What every conformance check works on: the codec under test, its samples, and the ways to
 * drive it that mirror the proxy (a FrameReader fed chunk by chunk, decode looped until it
 * asks for more bytes).
 */
import { ConformanceFailure } from '../../config/errors.js';
import { FrameReader, MessageType } from '../api/index.js';
import type { ClientCodec, CodecBase, CodecContext, CodecFactory, Message, RequestId, ServerCodec } from '../api/index.js';
import type { NormalizedSamples, Sample } from './samples.js';

export { ConformanceFailure };

/** The codec under test and its samples. */
export interface KitSubject {
  readonly factory: CodecFactory;
  readonly samples: NormalizedSamples;
  readonly context: CodecContext;
  /** A fresh downstream half (one per connection in the proxy). */
  server(): ServerCodec;
  /** A fresh upstream half. */
  client(): ClientCodec;
}

export function makeSubject(factory: CodecFactory, samples: NormalizedSamples): KitSubject {
  const context: CodecContext = { maxFrameSize: samples.maxFrameSize, options: samples.options, wantedKeys: new Set() };
  return {
    factory,
    samples,
    context,
    server: () => factory.createServerCodec(context),
    client: () => factory.createClientCodec(context),
  };
}

/** What decoding a stream of chunks produced. */
export interface DecodeRun {
  readonly messages: Message[];
  /** The decode error that stopped the run (the proxy closes the connection there). */
  readonly error: Error | undefined;
  /** Bytes left undecoded at the end. */
  readonly leftover: number;
}

/**
 * Feeds `chunks` to `codec` the way a connection does: push a chunk, decode until the codec
 * needs more bytes, stop at the first error. Decode results are told apart by shape (an
 * Error instance is a decode error), so a codec built against another copy of the API
 * still works. A message returned without consuming a byte would spin the proxy forever,
 * so it fails the run.
 */
export function decodeChunks(codec: CodecBase, chunks: Iterable<Buffer>): DecodeRun {
  const reader = new FrameReader();
  const messages: Message[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (;;) {
      const before = reader.length;
      const r = codec.decode(reader);
      if (r === undefined) break;
      if (r instanceof Error) return { messages, error: r, leftover: reader.length };
      if (reader.length >= before) throw new ConformanceFailure(`decode returned a ${MessageType[r.type]} without consuming any byte (the proxy would loop forever)`);
      messages.push(r);
    }
  }
  return { messages, error: undefined, leftover: reader.length };
}

/** Decodes `sample` as one whole frame with a fresh codec; fails unless exactly one message comes out. */
export function decodeOne(codec: CodecBase, sample: Sample): Message {
  const run = decodeChunks(codec, [Buffer.from(sample.bytes)]);
  if (run.error !== undefined) throw new ConformanceFailure(`${sample.label}: decode returned an error: ${run.error.message}`);
  if (run.messages.length !== 1) throw new ConformanceFailure(`${sample.label}: expected one message, decode produced ${run.messages.length} (${run.leftover} byte(s) left)`);
  if (run.leftover !== 0) throw new ConformanceFailure(`${sample.label}: decode left ${run.leftover} byte(s) of a complete frame unread`);
  return run.messages[0]!;
}

/** `buf` cut at the sorted offsets `points`. */
export function splitAt(buf: Buffer, points: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

/** Describes bytes for a failure message (hex, shortened). */
export function showBytes(buf: Buffer): string {
  const hex = buf.toString('hex');
  return hex.length > 96 ? `${hex.slice(0, 96)}... (${buf.length} bytes)` : `${hex} (${buf.length} bytes)`;
}

/** The bytes of an encode result; a returned CodecError fails the check. */
export function encodedBytes(result: Buffer | Error, what: string): Buffer {
  if (result instanceof Error) throw new ConformanceFailure(`${what}: encode returned an error: ${result.message}`);
  return result;
}

/** Fails unless `actual` equals `expected` byte for byte. */
export function expectBytes(result: Buffer | Error, expected: Buffer, what: string): void {
  const actual = encodedBytes(result, what);
  if (!((actual as unknown) instanceof Uint8Array)) throw new ConformanceFailure(`${what}: expected bytes, got ${typeof actual}`);
  if (Buffer.compare(actual, expected) !== 0) throw new ConformanceFailure(`${what}: bytes differ\n  expected ${showBytes(expected)}\n  actual   ${showBytes(Buffer.from(actual))}`);
}

/** Fails unless `actual` is the id `expected`, with the SPI's number/bigint convention. */
export function expectId(actual: RequestId, expected: RequestId, what: string): void {
  if (actual === expected) return;
  const show = (id: RequestId): string => (typeof id === 'bigint' ? `bigint ${id}n` : `number ${id}`);
  const hint = typeof actual !== typeof expected && BigInt(actual) === BigInt(expected) ? ' (ids that are safe integers must be numbers, larger ones bigints)' : '';
  throw new ConformanceFailure(`${what}: request id is ${show(actual)}, expected ${show(expected)}${hint}`);
}

/** Reads every metadata entry and the operation name, as routes, filters and logs would. */
export function touchMetadata(msg: Message): number {
  let n = msg.operationName.length;
  for (const [k, v] of msg.metadata.entries()) n += k.length + v.length;
  return n;
}

/** Message types a server half may decode from a client. */
export const REQUEST_SIDE_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.Request,
  MessageType.Oneway,
  MessageType.Heartbeat,
  MessageType.StreamInit,
  MessageType.StreamData,
  MessageType.StreamCloseOneWay,
  MessageType.StreamCloseTwoWay,
]);

/** Message types a client half may decode from a server. */
export const RESPONSE_SIDE_TYPES: ReadonlySet<MessageType> = new Set([
  MessageType.Response,
  MessageType.Error,
  MessageType.Heartbeat,
  MessageType.StreamInit,
  MessageType.StreamData,
  MessageType.StreamCloseOneWay,
  MessageType.StreamCloseTwoWay,
]);
