/**
 * Just enough of Hessian 2.0 to route Dubbo requests: read strings and ints, and skip any
 * value without building it (so the attachments after the arguments can be reached).
 * Grammar facts: spec/wire-formats.md §1.4.
 */
import { HessianError } from '../../config/errors.js';
import { decodeName } from '../api/name-cache.js';

export { HessianError };


const MAX_DEPTH = 64;

export class Hessian2Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  /** Field counts of the class definitions seen so far (for skipping objects). */
  #classFields: number[] = [];
  /** Types seen so far; a type reference is an index into this list. */
  #typeCount = 0;

  constructor(buf: Buffer, start: number, end: number = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new HessianError('hessian2 value runs past the end of the body');
  }

  #byte(): number {
    this.#need(1);
    return this.buf[this.pos++]!;
  }

  /** Reads an int (any of the int encodings). */
  readInt(): number {
    const b = this.#byte();
    if (b >= 0x80 && b <= 0xbf) return b - 0x90;
    if (b >= 0xc0 && b <= 0xcf) {
      this.#need(1);
      return ((b - 0xc8) << 8) + this.buf[this.pos++]!;
    }
    if (b >= 0xd0 && b <= 0xd7) {
      this.#need(2);
      const v = ((b - 0xd4) << 16) + (this.buf[this.pos]! << 8) + this.buf[this.pos + 1]!;
      this.pos += 2;
      return v;
    }
    if (b === 0x49) {
      this.#need(4);
      const v = this.buf.readInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    throw new HessianError(`expected a hessian2 int, found byte 0x${b.toString(16)}`);
  }

  /** Reads a string or null (returned as ''). */
  readString(): string {
    if (this.#nullString()) return '';
    let out = '';
    for (;;) {
      const units = this.#chunkUnits();
      const final = this.#finalChunk;
      const start = this.pos;
      const ascii = this.#skipUtf16Units(units);
      // ASCII bytes read the same as UTF-8: the name cache serves the repeating interface and method names.
      out += ascii ? decodeName(this.buf, start, this.pos) : decodeCesu8(this.buf, start, this.pos);
      if (final) return out;
    }
  }

  /** Moves past a string or null without building it. */
  skipString(): void {
    if (this.#nullString()) return;
    for (;;) {
      const units = this.#chunkUnits();
      const final = this.#finalChunk;
      this.#skipUtf16Units(units);
      if (final) return;
    }
  }

  /** Consumes a null in place of a string; leaves anything else unread. */
  #nullString(): boolean {
    if (this.#byte() === 0x4e) return true;
    this.pos--;
    return false;
  }

  /** Set by #chunkUnits: false for a non-final chunk (tag 'R'), after which more follow. */
  #finalChunk = true;

  /** Reads a string chunk's tag and returns its length in UTF-16 units. */
  #chunkUnits(): number {
    const tag = this.#byte();
    this.#finalChunk = true;
    if (tag <= 0x1f) return tag;
    if (tag >= 0x30 && tag <= 0x33) return ((tag - 0x30) << 8) + this.#byte();
    if (tag === 0x53 || tag === 0x52) {
      this.#need(2);
      const units = this.buf.readUInt16BE(this.pos);
      this.pos += 2;
      this.#finalChunk = tag === 0x53;
      return units;
    }
    throw new HessianError(`expected a hessian2 string, found byte 0x${tag.toString(16)}`);
  }

  /**
   * Advances past `units` UTF-16 code units of (modified) UTF-8. Returns true when every
   * byte was ASCII, so the caller can take the fast decode.
   */
  #skipUtf16Units(units: number): boolean {
    let ascii = true;
    let p = this.pos;
    const end = this.end;
    const buf = this.buf;
    for (let i = 0; i < units; i++) {
      if (p >= end) throw new HessianError('hessian2 string runs past the end of the body');
      const c = buf[p]!;
      if (c < 0x80) p += 1;
      else if (c < 0xe0) {
        p += 2;
        ascii = false;
      } else if (c < 0xf0) {
        p += 3;
        ascii = false;
      } else {
        // A 4-byte UTF-8 sequence is one character made of two UTF-16 units. Lead bytes
        // past f4 and values past U+10FFFF are no character: refusing them here, where every
        // header string is walked at decode time, makes the request a BAD_REQUEST instead of
        // a RangeError later in whoever reads the string.
        if (c > 0xf4 || (c === 0xf4 && p + 1 < end && (buf[p + 1]! & 0x3f) > 0x0f)) {
          throw new HessianError(`hessian2 string holds an invalid UTF-8 lead byte 0x${c.toString(16)} (no code point above U+10FFFF)`);
        }
        p += 4;
        i++;
        ascii = false;
      }
    }
    if (p > end) throw new HessianError('hessian2 string runs past the end of the body');
    this.pos = p;
    return ascii;
  }

  #skipBytes(n: number): void {
    this.#need(n);
    this.pos += n;
  }

  #skipType(): void {
    const b = this.buf[this.pos];
    if (b === undefined) throw new HessianError('hessian2 type runs past the end of the body');
    // A type is a string (a new type) or an int (a reference to an earlier one).
    if (b <= 0x1f || (b >= 0x30 && b <= 0x33) || b === 0x53 || b === 0x52) {
      this.readString();
      this.#typeCount++;
    } else {
      const ref = this.readInt();
      if (ref < 0 || ref >= this.#typeCount) throw new HessianError(`hessian2 type reference ${ref} is undefined`);
    }
  }

  /** Skips one complete value of any type. */
  skipValue(depth = 0): void {
    if (depth > MAX_DEPTH) throw new HessianError(`hessian2 value nested deeper than ${MAX_DEPTH}`);
    const b = this.#byte();
    if (b <= 0x1f) return this.#skipStringBody(b, true);
    if (b <= 0x2f) return this.#skipBytes(b - 0x20);
    if (b <= 0x33) return this.#skipStringBody(((b - 0x30) << 8) + this.#byte(), true);
    if (b <= 0x37) return this.#skipBytes(((b - 0x34) << 8) + this.#byte());
    if (b <= 0x3f) return this.#skipBytes(2);
    if (b >= 0x60 && b <= 0x6f) return this.#skipObjectFields(b - 0x60, depth);
    if (b >= 0x70 && b <= 0x77) {
      this.#skipType();
      return this.#skipItems(b - 0x70, depth);
    }
    if (b >= 0x78 && b <= 0x7f) return this.#skipItems(b - 0x78, depth);
    if (b >= 0x80 && b <= 0xbf) return;
    if (b <= 0xcf && b >= 0xc0) return this.#skipBytes(1);
    if (b <= 0xd7 && b >= 0xd0) return this.#skipBytes(2);
    if (b >= 0xd8 && b <= 0xef) return;
    if (b >= 0xf0) return this.#skipBytes(1);
    switch (b) {
      case 0x4e: // N
      case 0x54: // T
      case 0x46: // F
      case 0x5b:
      case 0x5c:
        return;
      case 0x5d:
        return this.#skipBytes(1);
      case 0x5e:
        return this.#skipBytes(2);
      case 0x5f:
      case 0x59: // Y
      case 0x49: // I
      case 0x4b:
        return this.#skipBytes(4);
      case 0x4c: // L
      case 0x44: // D
      case 0x4a:
        return this.#skipBytes(8);
      case 0x53: // S
      case 0x52: {
        // R
        this.#need(2);
        const units = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
        this.#skipStringBody(units, b === 0x53);
        return;
      }
      case 0x42: // B
      case 0x41: {
        // A
        this.#need(2);
        const len = this.buf.readUInt16BE(this.pos);
        this.pos += 2;
        this.#skipBytes(len);
        if (b === 0x41) this.skipValue(depth + 1);
        return;
      }
      case 0x56: // V typed fixed list
        this.#skipType();
        return this.#skipItems(this.readInt(), depth);
      case 0x58: // X untyped fixed list
        return this.#skipItems(this.readInt(), depth);
      case 0x55: // U typed variable list
        this.#skipType();
        return this.#skipUntilEnd(depth);
      case 0x57: // W untyped variable list
        return this.#skipUntilEnd(depth);
      case 0x48: // H untyped map
        return this.#skipUntilEnd(depth);
      case 0x4d: // M typed map
        this.#skipType();
        return this.#skipUntilEnd(depth);
      case 0x43: {
        // C: a class definition precedes the value that uses it.
        this.readString();
        const n = this.readInt();
        if (n < 0 || n > 65535) throw new HessianError(`hessian2 class definition with ${n} fields`);
        for (let i = 0; i < n; i++) this.readString();
        this.#classFields.push(n);
        return this.skipValue(depth);
      }
      case 0x4f: // O
        return this.#skipObjectFields(this.readInt(), depth);
      case 0x51: // Q back-reference
        this.readInt();
        return;
      default:
        throw new HessianError(`unknown hessian2 tag 0x${b.toString(16)}`);
    }
  }

  /** Skips a string's first chunk body and, in a loop (not recursion: chunks may be many), the chunks after it. */
  #skipStringBody(units: number, final: boolean): void {
    this.#skipUtf16Units(units);
    if (!final) this.skipString();
  }

  #skipItems(count: number, depth: number): void {
    if (count < 0) throw new HessianError(`hessian2 list with negative length ${count}`);
    for (let i = 0; i < count; i++) this.skipValue(depth + 1);
  }

  #skipObjectFields(defIndex: number, depth: number): void {
    const n = this.#classFields[defIndex];
    if (n === undefined) throw new HessianError(`hessian2 object refers to undefined class ${defIndex}`);
    for (let i = 0; i < n; i++) this.skipValue(depth + 1);
  }

  #skipUntilEnd(depth: number): void {
    for (;;) {
      this.#need(1);
      if (this.buf[this.pos] === 0x5a) {
        this.pos++;
        return;
      }
      this.skipValue(depth + 1);
    }
  }

  /** Reads the raw bytes of the next value (for values kept as they are). */
  rawValue(): Buffer {
    const start = this.pos;
    this.skipValue();
    return this.buf.subarray(start, this.pos);
  }

  peekByte(): number {
    this.#need(1);
    return this.buf[this.pos]!;
  }
}

/** Decodes modified UTF-8 where surrogates may be encoded one by one (CESU-8). */
function decodeCesu8(buf: Buffer, start: number, end: number): string {
  let out = '';
  let p = start;
  while (p < end) {
    const c = buf[p]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      p += 1;
    } else if (c < 0xe0) {
      out += String.fromCharCode(((c & 0x1f) << 6) | (buf[p + 1]! & 0x3f));
      p += 2;
    } else if (c < 0xf0) {
      out += String.fromCharCode(((c & 0x0f) << 12) | ((buf[p + 1]! & 0x3f) << 6) | (buf[p + 2]! & 0x3f));
      p += 3;
    } else {
      const cp = ((c & 0x07) << 18) | ((buf[p + 1]! & 0x3f) << 12) | ((buf[p + 2]! & 0x3f) << 6) | (buf[p + 3]! & 0x3f);
      // The walk refuses these already; a replacement character keeps this total anyway.
      out += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
      p += 4;
    }
  }
  return out;
}
