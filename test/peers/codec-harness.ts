/**
 * Helpers shared by the codec unit tests: hex vectors, captures, and driving a codec over
 * a list of chunks the way a connection does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CodecError } from '../../codecs/api/index.js';
import type { CodecBase, CodecContext, Message } from '../../codecs/api/index.js';
import { decodeChunks as kitDecodeChunks } from '../../codecs/kit/subject.js';

/** Where the read-only specs live. */
export const SPEC_DIR = process.env['MELTEMI_SPEC_DIR'] ?? '/work/shared/spec';

/** Bytes of a hex string (spaces ignored). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** A codec context for tests. */
export function testContext(options: Record<string, unknown> = {}, maxFrameSize = 16 * 1024 * 1024): CodecContext {
  return { maxFrameSize, options, wantedKeys: new Set() };
}

/** One line of a `captures/*.hex` file. */
export interface CaptureRead {
  conn: number;
  dir: 'C->S' | 'S->C';
  bytes: Buffer;
}

/** Reads a capture file: one TCP read per line. */
export function readCapture(name: string): CaptureRead[] {
  const text = fs.readFileSync(path.join(SPEC_DIR, 'captures', name), 'utf8');
  const out: CaptureRead[] = [];
  for (const line of text.split('\n')) {
    const m = /^#(\d+) (C->S|S->C) (\d+)B ([0-9a-f]+)$/.exec(line.trim());
    if (m === null) continue;
    const bytes = hex(m[4]!);
    if (bytes.length !== Number(m[3])) throw new Error(`capture ${name}: length mismatch on ${line.slice(0, 30)}`);
    out.push({ conn: Number(m[1]), dir: m[2] as 'C->S' | 'S->C', bytes });
  }
  return out;
}

/** `<TAG> <hex>` lines of a capture text file (raw-*.out, trpc-vectors.txt). */
export function readTaggedHex(name: string): { tag: string; bytes: Buffer }[] {
  const text = fs.readFileSync(path.join(SPEC_DIR, 'captures', name), 'utf8');
  const out: { tag: string; bytes: Buffer }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([A-Z_0-9]+) ([0-9a-f]+)$/.exec(line.trim());
    if (m !== null) out.push({ tag: m[1]!, bytes: hex(m[2]!) });
  }
  return out;
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
