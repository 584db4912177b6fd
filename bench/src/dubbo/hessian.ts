// The few Hessian2 pieces a Dubbo bench needs: writing strings and maps of strings, and
// skipping a string to find where the next value starts. See spec/wire-formats.md §1.4.

/** Largest length the one-byte short form (0x00-0x1f) can carry. */
const SHORT_MAX = 0x1f;
/** Largest length the two-byte medium form (0x30-0x33) can carry. */
const MEDIUM_MAX = 0x3ff;
/** Largest length one 'S'/'R' chunk can carry (u16). */
const CHUNK_MAX = 0xffff;

/**
 * Bytes the canonical encoding of `s` takes. Hessian counts UTF-16 code units, and encodes each
 * unit on its own (CESU-8 style), so a surrogate pair takes 6 bytes, not 4.
 */
export function stringSize(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    bytes += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
  }
  return bytes + chunkHeadersSize(s.length, canonicalForm(s.length));
}

/** Writes `s` in canonical form at `off`; returns the offset after it. */
export function writeString(buf: Buffer, off: number, s: string): number {
  const form = canonicalForm(s.length);
  let unit = 0;
  let remaining = s.length;
  do {
    const n = Math.min(remaining, form === 'chunked' ? CHUNK_MAX : remaining);
    off = writeChunkHeader(buf, off, n, form, remaining > n);
    for (let end = unit + n; unit < end; unit++) off = writeUnit(buf, off, s.charCodeAt(unit));
    remaining -= n;
  } while (remaining > 0);
  return off;
}

/** Writes an untyped map of strings (`H k v ... Z`); returns the offset after it. */
export function writeStringMap(buf: Buffer, off: number, map: Readonly<Record<string, string>>): number {
  buf[off++] = 0x48; // 'H'
  for (const [k, v] of Object.entries(map)) {
    off = writeString(buf, off, k);
    off = writeString(buf, off, v);
  }
  buf[off++] = 0x5a; // 'Z'
  return off;
}

/** Bytes `writeStringMap` will take. */
export function stringMapSize(map: Readonly<Record<string, string>>): number {
  let n = 2;
  for (const [k, v] of Object.entries(map)) n += stringSize(k) + stringSize(v);
  return n;
}

/**
 * Encodes an ASCII string that takes exactly `encodedSize` bytes. The bench sizes frames to the
 * byte, and a canonical encoding cannot hit every size (33 bytes would need 32 chars in the
 * short form, which stops at 31), so at those edges it uses the next longer header form, which
 * Hessian decoders accept for any length it can carry.
 */
export function asciiStringOfEncodedSize(encodedSize: number, fill = 0x78 /* 'x' */): Buffer {
  if (!Number.isInteger(encodedSize) || encodedSize < 1) throw new RangeError(`string size ${encodedSize} < 1`);
  const buf = Buffer.allocUnsafe(encodedSize);
  let chars: number;
  let form: StringForm;
  if (encodedSize - 1 <= SHORT_MAX) [chars, form] = [encodedSize - 1, 'short'];
  else if (encodedSize - 2 <= MEDIUM_MAX) [chars, form] = [encodedSize - 2, 'medium'];
  else {
    // Chunked: every 65535 chars cost 3 header bytes; solve for the char count.
    form = 'chunked';
    const chunks = Math.ceil(encodedSize / (CHUNK_MAX + 3));
    chars = encodedSize - 3 * chunks;
  }
  let off = 0;
  let remaining = chars;
  do {
    const n = form === 'chunked' ? Math.min(remaining, CHUNK_MAX) : remaining;
    off = writeChunkHeader(buf, off, n, form, remaining > n);
    buf.fill(fill, off, off + n);
    off += n;
    remaining -= n;
  } while (remaining > 0);
  if (off !== encodedSize) throw new Error(`string sizing bug: wrote ${off} of ${encodedSize} bytes`);
  return buf;
}

/**
 * Returns the offset just past the string (or null `N`) at `off`, or -1 when the bytes up to
 * `end` do not hold a whole string. Walks the UTF-8 bytes because lengths count UTF-16 units.
 */
export function skipString(buf: Buffer, off: number, end: number): number {
  for (;;) {
    if (off >= end) return -1;
    const tag = buf[off]!;
    let units: number;
    let final = true;
    if (tag === 0x4e) return off + 1; // 'N' null
    if (tag <= SHORT_MAX) {
      units = tag;
      off += 1;
    } else if (tag >= 0x30 && tag <= 0x33) {
      if (off + 2 > end) return -1;
      units = ((tag - 0x30) << 8) | buf[off + 1]!;
      off += 2;
    } else if (tag === 0x53 || tag === 0x52) {
      if (off + 3 > end) return -1;
      units = buf.readUInt16BE(off + 1);
      final = tag === 0x53;
      off += 3;
    } else {
      return -1;
    }
    off = skipUtf16Units(buf, off, end, units);
    if (off < 0 || final) return off;
  }
}

type StringForm = 'short' | 'medium' | 'chunked';

function canonicalForm(units: number): StringForm {
  return units <= SHORT_MAX ? 'short' : units <= MEDIUM_MAX ? 'medium' : 'chunked';
}

function chunkHeadersSize(units: number, form: StringForm): number {
  if (form === 'short') return 1;
  if (form === 'medium') return 2;
  return 3 * Math.max(1, Math.ceil(units / CHUNK_MAX));
}

function writeChunkHeader(buf: Buffer, off: number, units: number, form: StringForm, more: boolean): number {
  if (form === 'short') {
    buf[off] = units;
    return off + 1;
  }
  if (form === 'medium') {
    buf[off] = 0x30 + (units >> 8);
    buf[off + 1] = units & 0xff;
    return off + 2;
  }
  buf[off] = more ? 0x52 : 0x53;
  buf.writeUInt16BE(units, off + 1);
  return off + 3;
}

function writeUnit(buf: Buffer, off: number, u: number): number {
  if (u < 0x80) {
    buf[off] = u;
    return off + 1;
  }
  if (u < 0x800) {
    buf[off] = 0xc0 | (u >> 6);
    buf[off + 1] = 0x80 | (u & 0x3f);
    return off + 2;
  }
  buf[off] = 0xe0 | (u >> 12);
  buf[off + 1] = 0x80 | ((u >> 6) & 0x3f);
  buf[off + 2] = 0x80 | (u & 0x3f);
  return off + 3;
}

function skipUtf16Units(buf: Buffer, off: number, end: number, units: number): number {
  while (units > 0) {
    if (off >= end) return -1;
    const b = buf[off]!;
    if (b < 0x80) {
      off += 1;
      units -= 1;
    } else if (b < 0xe0) {
      off += 2;
      units -= 1;
    } else if (b < 0xf0) {
      off += 3;
      units -= 1;
    } else {
      // A 4-byte UTF-8 sequence is one code point outside the BMP: two UTF-16 units.
      off += 4;
      units -= 2;
    }
  }
  return off <= end ? off : -1;
}
