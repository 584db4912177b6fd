/** Hessian 2.0 encoders for the few values the proxy writes itself (strings, maps of strings). */

/** Encodes `s` as a hessian2 string: length in UTF-16 units, each unit as (modified) UTF-8. */
export function encodeHessianString(s: string): Buffer {
  const units = s.length;
  const body = utf16ToCesu8(s);
  const parts: Buffer[] = [];
  let offset = 0;
  let unitOffset = 0;
  // Strings longer than 0xffff units are written as non-final 'R' chunks.
  while (units - unitOffset > 0xffff) {
    const chunkEnd = byteOffsetOfUnit(s, body, offset, unitOffset, 0xffff);
    parts.push(Buffer.from([0x52, 0xff, 0xff]), body.subarray(offset, chunkEnd));
    offset = chunkEnd;
    unitOffset += 0xffff;
  }
  const rest = units - unitOffset;
  let head: Buffer;
  if (rest <= 0x1f) head = Buffer.from([rest]);
  else if (rest <= 0x3ff) head = Buffer.from([0x30 + (rest >> 8), rest & 0xff]);
  else head = Buffer.from([0x53, rest >> 8, rest & 0xff]);
  parts.push(head, body.subarray(offset));
  return parts.length === 2 ? Buffer.concat([head, body.subarray(offset)]) : Buffer.concat(parts);
}

function utf16ToCesu8(s: string): Buffer {
  // Fast path: no surrogates, so standard UTF-8 is already the right encoding.
  if (!/[\ud800-\udfff]/.test(s)) return Buffer.from(s, 'utf8');
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes.push(c);
    else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Buffer.from(bytes);
}

function byteOffsetOfUnit(s: string, _body: Buffer, byteStart: number, unitStart: number, units: number): number {
  let p = byteStart;
  for (let i = unitStart; i < unitStart + units; i++) {
    const c = s.charCodeAt(i);
    p += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return p;
}
