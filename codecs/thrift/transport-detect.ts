import { CodecError, type FrameReader } from '../api/index.js';
import { BINARY_VERSION_1, COMPACT_PROTOCOL_ID, COMPACT_VERSION, THEADER_MAGIC, THEADER_MAX_LENGTH } from './constants.js';
import type { ThriftProtocol } from './message-header.js';

/** How messages are delimited on a connection. */
export type ThriftTransport = 'framed' | 'unframed' | 'header';

/** A connection's variant. For THeader the protocol is read per frame, hence null. */
export interface ThriftVariant {
  transport: ThriftTransport;
  protocol: ThriftProtocol | null;
}

/** Longest method name accepted when guessing the non-strict unframed binary form. */
const MAX_GUESSED_NAME = 1024;

/** The protocol whose message starts with bytes `b0 b1`: strict binary or compact, else null. */
export function protocolSignature(b0: number, b1: number): ThriftProtocol | null {
  if (b0 === BINARY_VERSION_1 >> 8 && b1 === (BINARY_VERSION_1 & 0xff)) return 'binary';
  if (b0 === COMPACT_PROTOCOL_ID && (b1 & 0x1f) === COMPACT_VERSION) return 'compact';
  return null;
}

/**
 * True when `n` bytes at `off` look like a non-strict binary header: a printable name of
 * length `nameLen` followed by a message type 1..4. Only used to tell that old form apart
 * from garbage, since it has no magic of its own.
 */
function looksNonStrict(reader: FrameReader, off: number, nameLen: number): boolean | undefined {
  if (nameLen < 1 || nameLen > MAX_GUESSED_NAME) return false;
  if (reader.length < off + nameLen + 1) return undefined;
  for (let i = 0; i < nameLen; i++) {
    const c = reader.byteAt(off + i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  const type = reader.byteAt(off + nameLen);
  return type >= 1 && type <= 4;
}

/**
 * Detects the transport and protocol from the first bytes of a connection, the way python's
 * THeaderTransport.readFrame does (spec/wire-formats.md §2.1), plus the non-strict binary
 * form where it cannot be confused with anything else. `fixed` narrows the choice to the
 * configured transport. Returns undefined while more bytes are needed.
 */
export function detectVariant(
  reader: FrameReader,
  fixed: ThriftTransport | undefined,
): ThriftVariant | CodecError | undefined {
  if (reader.length < 2) return undefined;
  const b0 = reader.byteAt(0);
  const b1 = reader.byteAt(1);
  if (fixed === undefined || fixed === 'unframed') {
    // A frame length of 0x80.. or 0x82.. would exceed every limit, so these are unframed.
    if (b0 === 0x80 || b0 === COMPACT_PROTOCOL_ID) {
      const protocol = protocolSignature(b0, b1);
      if (protocol !== null) return { transport: 'unframed', protocol };
      return new CodecError(`thrift: bad message start 0x${b0.toString(16)}${b1.toString(16)}`, 'MELTEMI_ERR_BAD_MAGIC');
    }
    if (fixed === 'unframed') {
      if (reader.length < 4) return undefined;
      const ok = looksNonStrict(reader, 4, reader.uint32BE(0));
      if (ok === undefined) return undefined;
      if (ok) return { transport: 'unframed', protocol: 'binary' };
      return new CodecError('thrift: not an unframed binary or compact message', 'MELTEMI_ERR_BAD_MAGIC');
    }
  }
  if (reader.length < 8) return undefined;
  const length = reader.uint32BE(0);
  if (length > THEADER_MAX_LENGTH) {
    return new CodecError(`thrift: invalid frame length 0x${length.toString(16)} (not Thrift?)`, 'MELTEMI_ERR_BAD_MAGIC');
  }
  if (reader.uint16BE(4) === THEADER_MAGIC) {
    if (fixed === 'framed') return new CodecError('thrift: THeader frame on a framed connection', 'MELTEMI_ERR_BAD_MAGIC');
    return { transport: 'header', protocol: null };
  }
  if (fixed === 'header') return new CodecError('thrift: THeader magic missing', 'MELTEMI_ERR_BAD_MAGIC');
  const protocol = protocolSignature(reader.byteAt(4), reader.byteAt(5));
  if (protocol !== null) return { transport: 'framed', protocol };
  // Framed non-strict binary: bytes 4..7 are a name length shorter than the frame, so they
  // start with zero bytes, which no printable method name (the unframed guess) does.
  const inner = reader.uint32BE(4);
  if (inner + 9 <= length && reader.byteAt(4) === 0) {
    const ok = looksNonStrict(reader, 8, inner);
    if (ok === undefined) return undefined;
    if (ok) return { transport: 'framed', protocol: 'binary' };
  }
  if (fixed === undefined) {
    const ok = looksNonStrict(reader, 4, length);
    if (ok === undefined) return undefined;
    if (ok) return { transport: 'unframed', protocol: 'binary' };
  }
  return new CodecError('thrift: unrecognised transport/protocol', 'MELTEMI_ERR_BAD_MAGIC');
}
