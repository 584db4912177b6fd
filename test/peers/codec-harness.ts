/**
 * Helpers shared by the codec unit tests: hex vectors, captures, and driving a codec over
 * a list of chunks the way a connection does.
 */
import { CodecError } from '../../codecs/api/index.js';
import type { CodecBase, CodecContext, Message } from '../../codecs/api/index.js';
import { decodeChunks as kitDecodeChunks } from '../../codecs/kit/subject.js';

// The captures live in test/fixtures (read through the one helper every test uses).
export { readCapture, readTaggedHex, type CaptureRead } from '../helpers/spec-files.js';

/** Bytes of a hex string (spaces ignored). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** A codec context for tests. */
export function testContext(options: Record<string, unknown> = {}, maxFrameSize = 16 * 1024 * 1024): CodecContext {
  return { maxFrameSize, options, wantedKeys: new Set() };
}

/** Everything a codec produced from a stream of chunks. */
export interface DecodeRun {
  messages: Message[];
  error: CodecError | undefined;
  /** Bytes left in the reader at the end (an incomplete frame). */
  leftover: number;
}

/**
 * Pushes `chunks` one by one into a FrameReader and decodes after each, like a connection
 * does; stops at the first CodecError. The conformance kit's own run, with the error typed as
 * the CodecError the built-in codecs return (tests read its `code`).
 */
export function decodeChunks(codec: CodecBase, chunks: Iterable<Buffer>): DecodeRun {
  const run = kitDecodeChunks(codec, chunks);
  if (run.error !== undefined && !(run.error instanceof CodecError)) throw run.error;
  return { messages: run.messages, error: run.error, leftover: run.leftover };
}

/** `buf` cut at `points` (sorted offsets): the conformance kit's own helper. */
export { splitAt } from '../../codecs/kit/subject.js';

/** The bytes of an encode result; a returned CodecError fails the test. */
export function encoded(result: Buffer | CodecError): Buffer {
  if (result instanceof CodecError) throw result;
  return result;
}

/** A fresh copy (codecs patch frames in place; vectors must stay pristine). */
export function copy(buf: Buffer): Buffer {
  return Buffer.from(buf);
}
