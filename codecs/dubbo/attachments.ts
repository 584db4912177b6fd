import { Hessian2Reader, HessianError } from './hessian2-reader.js';
import { encodeHessianString } from './hessian2-writer.js';

/** One key/value of a hessian2 attachment map, kept as its original bytes. */
interface Entry {
  key: string | undefined;
  rawKey: Buffer;
  rawValue: Buffer;
}

/**
 * The attachment map at the end of a Dubbo body: string values are readable as metadata,
 * and the map can be re-written with a mutation while every other entry keeps its bytes.
 */
export class Attachments {
  readonly values = new Map<string, string>();
  readonly #entries: Entry[] = [];

  /** Parses the map starting at `reader.pos`; an empty remainder is an empty map. */
  static parse(reader: Hessian2Reader): Attachments {
    const out = new Attachments();
    if (reader.pos >= reader.end) return out;
    const tag = reader.peekByte();
    if (tag === 0x4e) return out; // null map
    if (tag !== 0x48 && tag !== 0x4d) throw new HessianError(`expected the attachment map, found byte 0x${tag.toString(16)}`);
    reader.pos++;
    if (tag === 0x4d) reader.rawValue(); // the map's type name
    for (;;) {
      if (reader.peekByte() === 0x5a) {
        reader.pos++;
        return out;
      }
      const keyStart = reader.pos;
      const key = isStringTag(reader.peekByte()) ? reader.readString() : (reader.skipValue(), undefined);
      const rawKey = reader.buf.subarray(keyStart, reader.pos);
      const valueStart = reader.pos;
      const value = readScalarAsString(reader);
      const rawValue = reader.buf.subarray(valueStart, reader.pos);
      out.#entries.push({ key, rawKey, rawValue });
      if (key !== undefined && value !== undefined) out.values.set(key.toLowerCase(), value);
    }
  }

  /** The map re-encoded with `mutation` applied (existing keys replaced in place, new ones appended). */
  encodeWith(mutation: ReadonlyMap<string, string>): Buffer {
    const parts: Buffer[] = [Buffer.from([0x48])];
    const done = new Set<string>();
    for (const e of this.#entries) {
      const replaced = e.key === undefined ? undefined : mutation.get(e.key);
      if (replaced !== undefined && e.key !== undefined) {
        parts.push(e.rawKey, encodeHessianString(replaced));
        done.add(e.key);
      } else {
        parts.push(e.rawKey, e.rawValue);
      }
    }
    for (const [k, v] of mutation) {
      if (!done.has(k)) parts.push(encodeHessianString(k), encodeHessianString(v));
    }
    parts.push(Buffer.from([0x5a]));
    return Buffer.concat(parts);
  }
}

function isStringTag(b: number): boolean {
  return b <= 0x1f || (b >= 0x30 && b <= 0x33) || b === 0x53 || b === 0x52;
}

/** Strings, ints and booleans become metadata strings; other values are skipped. */
function readScalarAsString(reader: Hessian2Reader): string | undefined {
  const b = reader.peekByte();
  if (isStringTag(b)) return reader.readString();
  if ((b >= 0x80 && b <= 0xd7) || b === 0x49) return String(reader.readInt());
  if (b === 0x54 || b === 0x46) {
    reader.pos++;
    return b === 0x54 ? 'true' : 'false';
  }
  reader.skipValue();
  return undefined;
}
