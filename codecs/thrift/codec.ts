import {
  CodecError,
  FrameReader,
  type ClientCodec,
  type CodecContext,
  type DecodeResult,
  type ErrorType,
  type Message,
  type Mutation,
  type RequestId,
  type ServerCodec,
} from '../api/index.js';
import { COMPACT_PROTOCOL_ID, DEFAULT_MAX_DEPTH, THEADER_MAGIC, THEADER_MAX_LENGTH, ThriftMessageType } from './constants.js';
import { readBinaryMessageHeader } from './binary-protocol.js';
import { readCompactMessageHeader } from './compact-protocol.js';
import { appExceptionTypeFor, buildErrorReply } from './error-reply.js';
import { newMessageHeader, splitName, type MessageHeader, type ThriftProtocol } from './message-header.js';
import { ThriftMessage, type ThriftFrameLayout } from './message.js';
import type { ThriftCodecOptions } from './options.js';
import { FAIL, NEED, newScanState, varintLength, writeVarint32, type ScanState } from './scan.js';
import { ResumableStructScan } from './resumable-scan.js';
import { unframedScanWork } from './scan-work.js';
import {
  buildTHeaderFrame,
  idOfProtocol,
  parseTHeader,
  protocolOfId,
  readInfoHeaders,
  transformPayload,
  untransformPayload,
  type THeaderLayout,
} from './theader.js';
import { detectVariant, protocolSignature, type ThriftTransport } from './transport-detect.js';

/** First parse window for unframed messages; most RPC messages fit in it. */
const UNFRAMED_WINDOW = 64 * 1024;

/** Reads a message header of either protocol. */
function readMessageHeader(
  protocol: ThriftProtocol,
  buf: Buffer,
  off: number,
  end: number,
  out: MessageHeader,
  st: ScanState,
): number {
  return protocol === 'binary'
    ? readBinaryMessageHeader(buf, off, end, out, st)
    : readCompactMessageHeader(buf, off, end, out, st);
}

/**
 * Converts a request id to the unsigned 32-bit seqid written on the wire. Negative i32 values
 * are accepted too (they are the same bits), anything else cannot be a Thrift seqid.
 */
function toSeqid(id: RequestId): number {
  const n = typeof id === 'bigint' ? Number(id) : id;
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) {
    throw new RangeError(`thrift: request id ${String(id)} does not fit an i32 seqid`);
  }
  return n >>> 0;
}

/**
 * One codec instance per connection direction. It detects (or is told) the transport and
 * protocol on the first bytes and holds the connection to them: a connection that changes
 * variant midway is refused, because a guess there would forward garbage.
 */
export class ThriftCodec implements ServerCodec, ClientCodec {
  readonly #maxFrameSize: number;
  readonly #options: ThriftCodecOptions;
  #transport: ThriftTransport | undefined;
  #protocol: ThriftProtocol | undefined;
  /** Unframed: the buffered length below which a new parse cannot succeed. */
  #need = 0;
  /** Sticky decode failure: after one, the connection is closed anyway. */
  #failed: CodecError | undefined;
  readonly #st: ScanState = newScanState();
  /** Unframed: the scan of the message being received, its header and where its struct starts. */
  readonly #scan = new ResumableStructScan();
  #hdr: MessageHeader | undefined;
  #bodyStart = 0;

  constructor(ctx: CodecContext, options: ThriftCodecOptions) {
    this.#maxFrameSize = ctx.maxFrameSize;
    this.#options = options;
    this.#transport = options.transport;
    // Under THeader the protocol belongs to each frame, so a fixed one is not enforced there.
    this.#protocol = options.transport === 'header' ? undefined : options.protocol;
  }

  /**
   * Compact writes the seqid as a varint: with ids of the client's encoded length the frame
   * is patched in place both ways instead of rebuilt (framed and unframed; THeader keeps its
   * own fixed seqid). Known once the protocol is configured or detected.
   */
  get varintRequestIds(): boolean {
    return this.#protocol === 'compact';
  }

  decode(reader: FrameReader): DecodeResult {
    if (this.#failed !== undefined) return this.#failed;
    try {
      return this.#decode(reader);
    } catch (e) {
      // Readers check every bound, so this is a bug; a CodecError closes only this connection.
      return this.#fail(`thrift: internal decode failure: ${(e as Error).message}`);
    }
  }

  #fail(text: string, code: CodecError['code'] = 'MELTEMI_ERR_CODEC'): CodecError {
    this.#failed = new CodecError(text, code);
    return this.#failed;
  }

  #failScan(what: string): CodecError {
    return this.#fail(`thrift: ${what}: ${this.#st.error}`, this.#st.tooLarge ? 'MELTEMI_ERR_FRAME_TOO_LARGE' : 'MELTEMI_ERR_CODEC');
  }

  #decode(reader: FrameReader): DecodeResult {
    if (reader.length === 0) return undefined;
    if (this.#transport === undefined || (this.#protocol === undefined && this.#transport !== 'header')) {
      const v = detectVariant(reader, this.#transport);
      if (v === undefined) return undefined;
      if (v instanceof CodecError) {
        this.#failed = v;
        return v;
      }
      const fixed = this.#options.protocol;
      if (v.protocol !== null && fixed !== undefined && v.protocol !== fixed) {
        return this.#fail(`thrift: ${v.protocol} protocol where ${fixed} is configured`, 'MELTEMI_ERR_BAD_MAGIC');
      }
      this.#transport = v.transport;
      this.#protocol = v.protocol ?? undefined;
    }
    return this.#transport === 'unframed' ? this.#decodeUnframed(reader) : this.#decodeFramed(reader, this.#transport);
  }

  #decodeUnframed(reader: FrameReader): DecodeResult {
    const protocol = this.#protocol!;
    if (reader.length < this.#need) return undefined;
    const st = this.#st;
    const scan = this.#scan;
    const limit = Math.min(reader.length, this.#maxFrameSize);
    if (!scan.active) {
      const b0 = reader.byteAt(0);
      if ((b0 === COMPACT_PROTOCOL_ID) !== (protocol === 'compact')) {
        return this.#fail(`thrift: unframed ${protocol} connection switched protocol`, 'MELTEMI_ERR_BAD_MAGIC');
      }
      // The message header is small and parsed whole; only the struct scan resumes.
      const window = Math.min(limit, Math.max(this.#need, UNFRAMED_WINDOW));
      const view = reader.peekRange(0, window);
      unframedScanWork.bytes += window;
      const hdr = newMessageHeader();
      const bodyStart = readMessageHeader(protocol, view, 0, window, hdr, st);
      if (bodyStart === FAIL) return this.#failScan('bad unframed message');
      if (bodyStart === NEED) return this.#needMore(st.need);
      this.#hdr = hdr;
      this.#bodyStart = bodyStart;
      scan.start(protocol, bodyStart, this.#options.maxDepth, this.#maxFrameSize);
    }
    // Resume where the last call stopped, one window at a time: a range inside one chunk is
    // a view, and a burst of pipelined messages is not merged into one buffer.
    let p: number;
    for (;;) {
      const from = scan.pos;
      const to = Math.min(limit, Math.max(from + UNFRAMED_WINDOW, this.#need));
      const view = reader.peekRange(from, to);
      unframedScanWork.bytes += to - from;
      p = scan.run(view, from, st);
      if (p !== NEED || to === limit) break;
    }
    if (p === NEED) return this.#needMore(st.need);
    if (p === FAIL) return this.#failScan('bad unframed message');
    this.#need = 0;
    const frame = reader.take(p);
    return new ThriftMessage(frame, this.#layout('unframed', protocol, this.#hdr!, 0, this.#bodyStart, null, null), this.#hdr!.seqid);
  }

  /** The unframed message needs `need` bytes in all; past the size limit that is a failure. */
  #needMore(need: number): DecodeResult {
    if (need > this.#maxFrameSize) {
      return this.#fail(`thrift: unframed message exceeds ${this.#maxFrameSize} bytes`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    }
    this.#need = need;
    return undefined;
  }

  #layout(
    transport: ThriftTransport,
    protocol: ThriftProtocol,
    hdr: MessageHeader,
    messageStart: number,
    bodyStart: number,
    header: THeaderLayout | null,
    plain: Buffer | null,
  ): ThriftFrameLayout {
    return {
      transport,
      protocol,
      name: hdr.name,
      messageType: hdr.type,
      messageStart,
      seqidOffset: hdr.seqidOffset,
      seqidLength: hdr.seqidLength,
      bodyStart,
      header,
      plain,
    };
  }

  #decodeFramed(reader: FrameReader, transport: ThriftTransport): DecodeResult {
    if (reader.length < 4) return undefined;
    const length = reader.uint32BE(0);
    if (length + 4 > this.#maxFrameSize || length > THEADER_MAX_LENGTH) {
      return this.#fail(`thrift: frame of ${length + 4} bytes exceeds ${this.#maxFrameSize}`, 'MELTEMI_ERR_FRAME_TOO_LARGE');
    }
    if (reader.length < length + 4) return undefined;
    const frame = reader.take(length + 4);
    const isHeader = length >= 2 && frame.readUInt16BE(4) === THEADER_MAGIC;
    if (isHeader !== (transport === 'header')) {
      return this.#fail(`thrift: ${transport} connection switched transport`, 'MELTEMI_ERR_BAD_MAGIC');
    }
    return transport === 'header' ? this.#decodeHeaderFrame(frame) : this.#decodePlainFrame(frame);
  }

  #decodePlainFrame(frame: Buffer): DecodeResult {
    const protocol = this.#protocol!;
    if (frame.length < 6) return this.#fail('thrift: frame too short for a message');
    if ((frame[4] === COMPACT_PROTOCOL_ID) !== (protocol === 'compact')) {
      return this.#fail(`thrift: framed ${protocol} connection switched protocol`, 'MELTEMI_ERR_BAD_MAGIC');
    }
    const hdr = newMessageHeader();
    const p = readMessageHeader(protocol, frame, 4, frame.length, hdr, this.#st);
    if (p === NEED) return this.#fail('thrift: message header runs past its frame');
    if (p === FAIL) return this.#failScan('bad framed message');
    return new ThriftMessage(frame, this.#layout('framed', protocol, hdr, 4, p, null, null), hdr.seqid);
  }

  #decodeHeaderFrame(frame: Buffer): DecodeResult {
    const st = this.#st;
    const h: THeaderLayout = { flags: 0, seqid: 0, protocolId: 0, transforms: [], infoStart: 0, payloadStart: 0 };
    if (parseTHeader(frame, h, st) === FAIL) {
      const unsupported = st.error.startsWith('unsupported');
      return this.#fail(`thrift: bad THeader: ${st.error}`, unsupported ? 'MELTEMI_ERR_UNSUPPORTED' : 'MELTEMI_ERR_CODEC');
    }
    const protocol = protocolOfId(h.protocolId);
    if (h.payloadStart === frame.length) {
      // An empty payload: the C++ client and server flush such frames. It carries no call, so
      // it is surfaced as a Heartbeat that needs no reply and is not forwarded.
      const layout: ThriftFrameLayout = {
        transport: 'header',
        protocol,
        name: '',
        messageType: 0,
        messageStart: h.payloadStart,
        seqidOffset: 8,
        seqidLength: 4,
        bodyStart: frame.length,
        header: h,
        plain: null,
      };
      return new ThriftMessage(frame, layout, h.seqid);
    }
    let plain: Buffer | null = null;
    let payload = frame;
    let start = h.payloadStart;
    if (h.transforms.length > 0) {
      const r = untransformPayload(frame.subarray(h.payloadStart), h.transforms, this.#maxFrameSize);
      if (typeof r === 'string') return this.#fail(`thrift: ${r}`);
      plain = r;
      payload = r;
      start = 0;
    }
    const sig = payload.length >= start + 2 ? protocolSignature(payload[start]!, payload[start + 1]!) : null;
    if (protocol === 'compact' && sig !== 'compact') return this.#fail('thrift: THeader protocol id 2 without a compact message');
    const hdr = newMessageHeader();
    const p = readMessageHeader(protocol, payload, start, payload.length, hdr, st);
    if (p === NEED) return this.#fail('thrift: message header runs past its THeader frame');
    if (p === FAIL) return this.#failScan('bad THeader payload');
    return new ThriftMessage(frame, this.#layout('header', protocol, hdr, start, p, h, plain), hdr.seqid);
  }

  setRequestId(message: Message, id: RequestId): void {
    const seqid = toSeqid(id);
    const m = asThriftMessage(message);
    const l = m.layout;
    if (l.messageType === 0) {
      m.frame.writeUInt32BE(seqid, 8);
      l.header!.seqid = seqid;
    } else if (l.plain === null) {
      m.frame = patchSeqid(m.frame, l, seqid);
      if (l.transport === 'framed') m.frame.writeUInt32BE(m.frame.length - 4, 0);
      if (l.header !== null) {
        m.frame.writeUInt32BE(m.frame.length - 4, 0);
        m.frame.writeUInt32BE(seqid, 8);
        l.header.seqid = seqid;
      }
    } else {
      // zlib payload: patch the plain copy, then compress again behind the same header.
      const h = l.header!;
      l.plain = patchSeqid(l.plain, l, seqid);
      const wire = transformPayload(l.plain, h.transforms);
      const frame = Buffer.allocUnsafe(h.payloadStart + wire.length);
      m.frame.copy(frame, 0, 0, h.payloadStart);
      wire.copy(frame, h.payloadStart);
      frame.writeUInt32BE(frame.length - 4, 0);
      frame.writeUInt32BE(seqid, 8);
      h.seqid = seqid;
      m.frame = frame;
    }
    m.updateSizes();
    m.requestId = seqid;
    if (m !== message) {
      message.frame = m.frame;
      message.requestId = seqid;
    }
  }

  encode(message: Message, mutation: Mutation | null): Buffer {
    if (mutation === null || mutation.size === 0) return message.frame;
    const m = asThriftMessage(message);
    const h = m.layout.header;
    // Only THeader has a place for key/value headers; plain Thrift forwards as it came.
    if (h === null) return message.frame;
    const info = readInfoHeaders(m.frame, h, this.#st);
    const merged = new Map<string, [string, string]>();
    for (const [k, v] of info.headers) merged.set(k.toLowerCase(), [k, v]);
    for (const [k, v] of mutation) merged.set(k.toLowerCase(), [k, v]);
    const frame = buildTHeaderFrame({
      flags: h.flags,
      seqid: m.frame.readUInt32BE(8),
      protocolId: h.protocolId,
      transforms: h.transforms,
      headers: merged.values(),
      rawTail: info.tailStart < h.payloadStart ? m.frame.subarray(info.tailStart, h.payloadStart) : null,
      payload: m.frame.subarray(h.payloadStart),
    });
    const delta = (frame.readUInt16BE(12) - m.frame.readUInt16BE(12)) * 4;
    parseTHeader(frame, h, this.#st);
    const l = m.layout;
    if (l.plain === null) {
      l.messageStart += delta;
      l.seqidOffset = l.messageType === 0 ? 8 : l.seqidOffset + delta;
      l.bodyStart += delta;
    }
    m.frame = frame;
    m.updateSizes();
    m.invalidateHeaders();
    if (m !== message) message.frame = frame;
    return frame;
  }

  errorReply(request: Message, error: ErrorType, text: string): Buffer {
    const l = asThriftMessage(request).layout;
    // One-way calls get no answer of any kind (thrift-rpc.md); nor do empty THeader frames.
    if (l.messageType === ThriftMessageType.Oneway || l.messageType === 0) return Buffer.alloc(0);
    const seqid = toSeqid(request.requestId);
    // The reply carries the bare method: TMultiplexedProcessor answers without the service
    // prefix, and the node client dispatches the reply to `recv_<name>`.
    const { method } = splitName(l.name);
    return buildErrorReply(
      { transport: l.transport, protocol: l.protocol, protocolId: l.header?.protocolId ?? idOfProtocol(l.protocol) },
      method,
      seqid,
      appExceptionTypeFor(error),
      text,
    );
  }

  heartbeatReply(_request: Message): Buffer | null {
    return null;
  }
}

/**
 * Writes `seqid` into `buf` at the layout's seqid position: in place when the encoded length
 * is unchanged (always for binary), otherwise into a new buffer with the rest shifted; the
 * layout's offsets are updated. Returns the buffer that now holds the message.
 */
function patchSeqid(buf: Buffer, l: ThriftFrameLayout, seqid: number): Buffer {
  if (l.protocol === 'binary') {
    buf.writeUInt32BE(seqid, l.seqidOffset);
    return buf;
  }
  const newLength = varintLength(seqid);
  if (newLength === l.seqidLength) {
    writeVarint32(buf, l.seqidOffset, seqid);
    return buf;
  }
  const out = Buffer.allocUnsafe(buf.length - l.seqidLength + newLength);
  buf.copy(out, 0, 0, l.seqidOffset);
  writeVarint32(out, l.seqidOffset, seqid);
  buf.copy(out, l.seqidOffset + newLength, l.seqidOffset + l.seqidLength);
  l.bodyStart += newLength - l.seqidLength;
  l.seqidLength = newLength;
  return out;
}

/**
 * The ThriftMessage behind `message`. Messages this codec decoded are used as they are; any
 * other object carrying a Thrift frame (a copy made by a filter) is decoded again.
 */
function asThriftMessage(message: Message): ThriftMessage {
  if (message instanceof ThriftMessage) return message;
  const codec = new ThriftCodec(
    { maxFrameSize: Math.max(message.frame.length, 1), options: {}, wantedKeys: new Set() },
    { transport: undefined, protocol: undefined, maxDepth: DEFAULT_MAX_DEPTH },
  );
  const reader = new FrameReader();
  reader.push(message.frame);
  const r = codec.decode(reader);
  if (!(r instanceof ThriftMessage)) {
    throw new TypeError(`thrift: message frame is not one Thrift message (${r instanceof CodecError ? r.message : 'incomplete'})`);
  }
  return r;
}
