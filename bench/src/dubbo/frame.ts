// Dubbo2 frame layout (spec/wire-formats.md §1.1): 16-byte header, then a hessian2 body.
import { asciiStringOfEncodedSize, stringMapSize, stringSize, writeString, writeStringMap } from './hessian.ts';

export const HEADER_SIZE = 16;
export const MAGIC_HI = 0xda;
export const MAGIC_LO = 0xbb;
export const FLAG_REQUEST = 0x80;
export const FLAG_TWOWAY = 0x40;
export const FLAG_EVENT = 0x20;
export const SERIALIZATION_MASK = 0x1f;
export const SERIALIZATION_HESSIAN2 = 2;
export const STATUS_OK = 20;
export const STATUS_BAD_REQUEST = 40;
/** Hessian2 int 1 (RESPONSE_VALUE) as its one-byte encoding. */
export const RESULT_VALUE = 0x91;
/** Hessian2 null, the body of heartbeat requests and replies. */
export const HESSIAN_NULL = 0x4e;
/** Refuse frames above this so a corrupt length cannot make us allocate gigabytes. */
export const MAX_BODY = 16 * 1024 * 1024;

/** What goes into each request; the bench varies only the argument size. */
export interface RequestShape {
  readonly dubboVersion: string;
  readonly service: string;
  readonly serviceVersion: string;
  readonly method: string;
  readonly descriptor: string;
  readonly attachments: Readonly<Record<string, string>>;
}

export const ECHO_REQUEST: RequestShape = {
  dubboVersion: '2.0.2',
  service: 'com.example.EchoService',
  serviceVersion: '1.0.0',
  method: 'echo',
  descriptor: 'Ljava/lang/String;',
  // Just `interface`: with every key Java sends, the fixed part alone would exceed the 128-byte
  // frame the performance targets are measured with.
  attachments: { interface: 'com.example.EchoService' },
};

/** A request frame with id 0 plus the sizes the load generator checks responses against. */
export interface RequestTemplate {
  readonly frame: Buffer;
  /** Encoded size of the one string argument; the echo server sends these bytes back. */
  readonly argumentSize: number;
  /** Size of the OK response the echo server answers with. */
  readonly responseSize: number;
}

/** Smallest total frame size the shape allows; the argument is then the empty string. */
export function minFrameSize(shape: RequestShape): number {
  return HEADER_SIZE + fixedBodySize(shape) + 1;
}

/**
 * Builds a two-way hessian2 request whose whole frame (header included) is `frameSize` bytes;
 * the string argument takes whatever the fixed fields leave.
 */
export function buildRequestTemplate(shape: RequestShape, frameSize: number): RequestTemplate {
  const fixed = fixedBodySize(shape);
  const argumentSize = frameSize - HEADER_SIZE - fixed;
  if (argumentSize < 1) {
    throw new RangeError(`payload ${frameSize} B is below the ${minFrameSize(shape)} B this request shape needs`);
  }
  const arg = asciiStringOfEncodedSize(argumentSize);
  const frame = Buffer.alloc(frameSize);
  writeHeader(frame, FLAG_REQUEST | FLAG_TWOWAY | SERIALIZATION_HESSIAN2, 0, frameSize - HEADER_SIZE);
  let off = HEADER_SIZE;
  for (const s of [shape.dubboVersion, shape.service, shape.serviceVersion, shape.method, shape.descriptor]) {
    off = writeString(frame, off, s);
  }
  off += arg.copy(frame, off);
  off = writeStringMap(frame, off, shape.attachments);
  if (off !== frameSize) throw new Error(`frame sizing bug: wrote ${off} of ${frameSize} bytes`);
  return { frame, argumentSize, responseSize: HEADER_SIZE + 1 + argumentSize };
}

/** Writes magic, flag, status 0 and body length; the id is left for the caller to patch. */
export function writeHeader(buf: Buffer, flag: number, status: number, bodyLength: number, off = 0): void {
  buf[off] = MAGIC_HI;
  buf[off + 1] = MAGIC_LO;
  buf[off + 2] = flag;
  buf[off + 3] = status;
  buf.writeUInt32BE(bodyLength, off + 12);
}

/** Writes a 64-bit request id as two 32-bit halves, which avoids BigInt on the hot path. */
export function writeRequestId(buf: Buffer, off: number, hi: number, lo: number): void {
  buf.writeUInt32BE(hi, off + 4);
  buf.writeUInt32BE(lo, off + 8);
}

function fixedBodySize(shape: RequestShape): number {
  return (
    stringSize(shape.dubboVersion) +
    stringSize(shape.service) +
    stringSize(shape.serviceVersion) +
    stringSize(shape.method) +
    stringSize(shape.descriptor) +
    stringMapSize(shape.attachments)
  );
}
