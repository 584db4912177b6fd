/**
 * Shared helpers of the Thrift codec tests: capture loading, decode loops, and typed access
 * to the npm `thrift` package used as an independent reader (it ships no type declarations).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CodecError, FrameReader, type CodecContext, type Message } from '../../codecs/api/index.js';
import { thriftCodecFactory } from '../../codecs/thrift/index.js';
import { FIXTURE_SPEC_DIR } from '../helpers/spec-files.js';
import type { ThriftCodec } from '../../codecs/thrift/codec.js';

/** The captures copied into the repository (test/fixtures/spec/captures). */
export const CAPTURE_DIR = join(FIXTURE_SPEC_DIR, 'captures');

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[^0-9a-fA-F]/g, ''), 'hex');
}

export function ctx(options: Record<string, unknown> = {}, maxFrameSize = 16 * 1024 * 1024): CodecContext {
  return { maxFrameSize, options, wantedKeys: new Set(['method']) };
}

export function serverCodec(options: Record<string, unknown> = {}, maxFrameSize?: number): ThriftCodec {
  return thriftCodecFactory.createServerCodec(ctx(options, maxFrameSize)) as ThriftCodec;
}

export function clientCodec(options: Record<string, unknown> = {}, maxFrameSize?: number): ThriftCodec {
  return thriftCodecFactory.createClientCodec(ctx(options, maxFrameSize)) as ThriftCodec;
}

/** One TCP connection of a capture: the reads in each direction, in order. */
export interface CaptureConnection {
  c2s: Buffer[];
  s2c: Buffer[];
}

/** Parses a `*.hex` capture: `#<conn> <DIR> <n>B <hex>` per TCP read. */
export function loadCapture(file: string): Map<number, CaptureConnection> {
  const conns = new Map<number, CaptureConnection>();
  for (const line of readFileSync(join(CAPTURE_DIR, file), 'utf8').split('\n')) {
    const m = /^#(\d+) (C->S|S->C) (\d+)B ([0-9a-f]+)$/.exec(line.trim());
    if (m === null) continue;
    const conn = Number(m[1]);
    const data = Buffer.from(m[4]!, 'hex');
    if (data.length !== Number(m[3])) throw new Error(`${file}: byte count mismatch`);
    let c = conns.get(conn);
    if (c === undefined) {
      c = { c2s: [], s2c: [] };
      conns.set(conn, c);
    }
    (m[2] === 'C->S' ? c.c2s : c.s2c).push(data);
  }
  return conns;
}

/** The Thrift capture files (`cap.framed.*`, `cap.buffered.*`, `hcap.*`). */
export function thriftCaptureFiles(): string[] {
  // Thrift captures only: cap.<framed|buffered>.* and the THeader hcap.* files.
  return readdirSync(CAPTURE_DIR).filter((f) => /^(cap\.(framed|buffered)\.|hcap\.).*\.hex$/.test(f)).sort();
}

/**
 * Pushes `chunks` one by one and decodes after each push until the codec needs more bytes.
 * Throws on a CodecError so tests fail with its text.
 */
export function decodeChunks(codec: ThriftCodec, chunks: readonly Buffer[], reader = new FrameReader()): Message[] {
  const out: Message[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (;;) {
      const r = codec.decode(reader);
      if (r === undefined) break;
      if (r instanceof CodecError) throw r;
      out.push(r);
    }
  }
  return out;
}

/** Decodes exactly one message from `frame` with a fresh codec. */
export function decodeOne(frame: Buffer, server = true, options: Record<string, unknown> = {}): Message {
  const codec = server ? serverCodec(options) : clientCodec(options);
  const msgs = decodeChunks(codec, [frame]);
  if (msgs.length !== 1) throw new Error(`expected one message, got ${msgs.length}`);
  return msgs[0]!;
}

// ---- npm thrift, typed by hand ----

export interface NpmMessageBegin {
  fname: string;
  mtype: number;
  rseqid: number;
}

export interface NpmProtocol {
  readMessageBegin(): NpmMessageBegin;
  readMessageEnd(): void;
  readStructBegin(): unknown;
  readStructEnd(): void;
  readFieldBegin(): { fname: string; ftype: number; fid: number };
  readFieldEnd(): void;
  skip(type: number): void;
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeMessageEnd(): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  writeMapBegin(k: number, v: number, size: number): void;
  writeMapEnd(): void;
  writeListBegin(e: number, size: number): void;
  writeListEnd(): void;
  writeSetBegin(e: number, size: number): void;
  writeSetEnd(): void;
  writeBool(v: boolean): void;
  writeByte(v: number): void;
  writeI16(v: number): void;
  writeI32(v: number): void;
  writeI64(v: number): void;
  writeDouble(v: number): void;
  writeString(v: string): void;
  flush(): void;
}

export interface NpmTransport {
  readHeaders(): Record<string, string> | undefined;
  getProtocolId(): number;
  getReadHeaders(): Record<string, string>;
  flush(): void;
}

export interface NpmAppException {
  message: string;
  type: number;
  read(p: NpmProtocol): void;
}

export interface NpmThrift {
  TFramedTransport: new (buf?: Buffer) => NpmTransport;
  TBufferedTransport: new (buf: undefined, onFlush: (msg: Buffer) => void) => NpmTransport;
  TBinaryProtocol: new (t: NpmTransport, strictRead?: boolean, strictWrite?: boolean) => NpmProtocol;
  TCompactProtocol: new (t: NpmTransport) => NpmProtocol;
  Thrift: {
    TApplicationException: new () => NpmAppException;
    Type: Record<string, number>;
  };
}

export const npmThrift = createRequire(import.meta.url)('thrift') as NpmThrift;

/**
 * Reads a whole frame with npm thrift's own classes: THeader through its THeaderTransport
 * reader, framed/unframed by protocol. Returns the protocol positioned after readMessageBegin.
 */
export function npmReadFrame(
  frame: Buffer,
  transport: 'framed' | 'unframed' | 'header',
): { begin: NpmMessageBegin; protocol: NpmProtocol; headers: Record<string, string> } {
  let trans: NpmTransport;
  let compact: boolean;
  let headers: Record<string, string> = {};
  if (transport === 'header') {
    trans = new npmThrift.TFramedTransport(frame);
    headers = trans.readHeaders() ?? {};
    compact = trans.getProtocolId() === 2;
  } else {
    const body = transport === 'framed' ? frame.subarray(4) : frame;
    trans = new npmThrift.TFramedTransport(body);
    compact = body[0] === 0x82;
  }
  const protocol = compact ? new npmThrift.TCompactProtocol(trans) : new npmThrift.TBinaryProtocol(trans);
  return { begin: protocol.readMessageBegin(), protocol, headers: { ...headers } };
}
