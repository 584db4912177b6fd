/** Dubbo2 frame layout (spec/wire-formats.md §1.1): 16-byte header, big-endian. */

export const HEADER_SIZE = 16;
export const MAGIC = 0xdabb;

export const FLAG_REQUEST = 0x80;
export const FLAG_TWOWAY = 0x40;
export const FLAG_EVENT = 0x20;
export const SERIALIZATION_MASK = 0x1f;
export const SERIALIZATION_HESSIAN2 = 2;

/** Response status byte values (Response.java). */
export const Status = {
  OK: 20,
  CLIENT_TIMEOUT: 30,
  SERVER_TIMEOUT: 31,
  BAD_REQUEST: 40,
  BAD_RESPONSE: 50,
  SERVICE_NOT_FOUND: 60,
  SERVICE_ERROR: 70,
  SERVER_ERROR: 80,
  CLIENT_ERROR: 90,
  SERVER_THREADPOOL_EXHAUSTED_ERROR: 100,
} as const;

/** Hessian2 `N`: the body of heartbeat events. */
export const HESSIAN_NULL = 0x4e;

const TWO_POW_32 = 0x1_0000_0000;

/** The 64-bit id at offset 4, as a number when it is a safe integer, else a bigint. */
export function readRequestId(frame: Buffer): number | bigint {
  const hi = frame.readUInt32BE(4);
  const lo = frame.readUInt32BE(8);
  if (hi < 0x200000) return hi * TWO_POW_32 + lo;
  return frame.readBigUInt64BE(4);
}

export function writeRequestId(frame: Buffer, id: number | bigint): void {
  if (typeof id === 'number') {
    frame.writeUInt32BE(Math.floor(id / TWO_POW_32), 4);
    frame.writeUInt32BE(id >>> 0, 8);
  } else {
    frame.writeBigUInt64BE(BigInt.asUintN(64, id), 4);
  }
}

/** A header for a frame of `bodyLength` bytes. */
export function writeHeader(flag: number, status: number, id: number | bigint, bodyLength: number): Buffer {
  const head = Buffer.allocUnsafe(HEADER_SIZE);
  head.writeUInt16BE(MAGIC, 0);
  head[2] = flag;
  head[3] = status;
  writeRequestId(head, id);
  head.writeUInt32BE(bodyLength, 12);
  return head;
}
