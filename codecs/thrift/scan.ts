/**
 * The result convention shared by the readers of this codec.
 *
 * Readers run on a contiguous buffer that may end before the message does. They return an
 * offset (>= 0) on success, or one of two negative sentinels and leave the detail in a
 * reusable ScanState, so the hot path allocates no result objects and throws nothing.
 */

/** More bytes are needed; `ScanState.need` is the smallest buffer length that can help. */
export const NEED = -1;
/** The bytes cannot be Thrift; `ScanState.error` says why. */
export const FAIL = -2;

/** Side channel of a reader call. One per codec instance, reset by the caller. */
export interface ScanState {
  /** With NEED: the buffer length (from the buffer's start) required to make progress. */
  need: number;
  /** With FAIL: a human-readable reason. */
  error: string;
  /** With FAIL: true when the reason is a size limit (maps to MELTEMI_ERR_FRAME_TOO_LARGE). */
  tooLarge: boolean;
}

/** A fresh ScanState. */
export function newScanState(): ScanState {
  return { need: 0, error: '', tooLarge: false };
}

/** Records NEED for `length` bytes and returns the sentinel. */
export function needBytes(st: ScanState, length: number): number {
  st.need = length;
  return NEED;
}

/** Records a failure and returns the sentinel. */
export function fail(st: ScanState, error: string, tooLarge = false): number {
  st.error = error;
  st.tooLarge = tooLarge;
  return FAIL;
}

/**
 * Holds the value of the last varint read by readVarint32. A module-level slot rather than a
 * returned pair keeps the reader allocation-free; JavaScript is single-threaded so no reader
 * can interleave between the read and the use.
 */
export const varintOut = { value: 0 };

/**
 * Reads an unsigned LEB128 varint of at most 5 bytes whose value fits in 32 bits (compact
 * sizes and sequence ids, THeader fields). Returns the offset after it, NEED or FAIL; the
 * value is left in `varintOut.value`.
 */
export function readVarint32(buf: Buffer, off: number, end: number, st: ScanState): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 5; i++) {
    if (off + i >= end) return needBytes(st, off + i + 1);
    const b = buf[off + i]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) return fail(st, 'varint exceeds 32 bits');
      varintOut.value = value;
      return off + i + 1;
    }
    mul *= 128;
  }
  return fail(st, 'varint longer than 5 bytes');
}

/** Skips a varint of at most `maxBytes` bytes without decoding it (compact i64 is 10). */
export function skipVarint(buf: Buffer, off: number, end: number, maxBytes: number, st: ScanState): number {
  for (let i = 0; i < maxBytes; i++) {
    if (off + i >= end) return needBytes(st, off + i + 1);
    if ((buf[off + i]! & 0x80) === 0) return off + i + 1;
  }
  return fail(st, `varint longer than ${maxBytes} bytes`);
}

/** Number of bytes of the unsigned varint encoding of `value` (0 ≤ value < 2^32). */
export function varintLength(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `value` (0 ≤ value < 2^32) as an unsigned varint at `off`; returns the offset after it. */
export function writeVarint32(buf: Buffer, off: number, value: number): number {
  let v = value;
  let o = off;
  while (v >= 0x80) {
    buf[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[o++] = v;
  return o;
}
