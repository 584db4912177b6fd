/**
 * Mutations of valid frames, the inputs that find decoder bugs random bytes rarely reach:
 * bit flips, interesting byte values, truncations, insertions, length fields edited to
 * boundary values (big- and little-endian, 1, 2 and 4 bytes, and varints), frames spliced
 * into each other or pipelined, and a short slice repeated up to 100k times (deep nesting:
 * a struct header, a hessian list tag, a protobuf group...).
 */
import { splitAt } from '../subject.js';
import type { Prng } from './prng.js';

/** How a frame was changed, for the failure report. */
export type MutationKind = 'flip' | 'set' | 'truncate' | 'insert' | 'length' | 'varint' | 'splice' | 'pipeline' | 'repeat' | 'random';

const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x0f, 0xf0, 0xc0, 0xf7, 0xf8, 0xfc];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Largest repeat count; a case with one costs a few hundred kilobytes. */
export const MAX_REPEAT = 100_000;

/** Applies one mutation to `buf`; `others` are the frames to splice from. */
export function mutateOnce(rng: Prng, buf: Buffer, others: readonly Buffer[], kinds: MutationKind[]): Buffer {
  const len = buf.length;
  const at = len === 0 ? 0 : rng.int(len);
  const roll = rng.int(100);
  if (len === 0 || roll < 4) {
    kinds.push('random');
    return rng.bytes(1 + rng.int(64));
  }
  if (roll < 22) {
    kinds.push('flip');
    const out = Buffer.from(buf);
    out[at] = out[at]! ^ (1 << rng.int(8));
    return out;
  }
  if (roll < 36) {
    kinds.push('set');
    const out = Buffer.from(buf);
    out[at] = rng.pick(INTERESTING_8);
    return out;
  }
  if (roll < 46) {
    kinds.push('truncate');
    return buf.subarray(0, at);
  }
  if (roll < 54) {
    kinds.push('insert');
    const ins = rng.chance(0.5) ? rng.bytes(1 + rng.int(8)) : Buffer.from([rng.pick(INTERESTING_8), rng.pick(INTERESTING_8)]);
    return Buffer.concat([buf.subarray(0, at), ins, buf.subarray(at)]);
  }
  if (roll < 70) {
    kinds.push('length');
    const out = Buffer.from(buf);
    const width = rng.pick([1, 2, 4]);
    if (at + width > len) return out;
    const base = width === 1 ? out[at]! : width === 2 ? out.readUInt16BE(at) : out.readUInt32BE(at);
    const pickNear = rng.chance(0.4);
    let v = pickNear ? base + rng.pick([-2, -1, 1, 2, len, -len]) : rng.pick(INTERESTING_32);
    const max = width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
    v = ((v % (max + 1)) + (max + 1)) % (max + 1);
    const little = rng.chance(0.25);
    if (width === 1) out[at] = v;
    else if (width === 2 && little) out.writeUInt16LE(v, at);
    else if (width === 2) out.writeUInt16BE(v, at);
    else if (little) out.writeUInt32LE(v, at);
    else out.writeUInt32BE(v, at);
    return out;
  }
  if (roll < 76) {
    kinds.push('varint');
    // A long or oversized varint where a byte was (protobuf and compact lengths, ids).
    const v = rng.pick([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from('ffffffffffffffffff01', 'hex'), Buffer.from('80808080808080808080', 'hex'), Buffer.from([0x80])]);
    return Buffer.concat([buf.subarray(0, at), v, buf.subarray(at + 1)]);
  }
  if (roll < 84) {
    kinds.push('splice');
    const other = rng.pick(others);
    const from = other.length === 0 ? 0 : rng.int(other.length);
    return Buffer.concat([buf.subarray(0, at), other.subarray(from)]);
  }
  if (roll < 90) {
    kinds.push('pipeline');
    return Buffer.concat([buf, rng.pick(others)]);
  }
  if (roll < 97) {
    kinds.push('repeat');
    // Deep nesting: repeat a 1-3 byte slice many times where it stands.
    const width = 1 + rng.int(3);
    const slice = buf.subarray(at, Math.min(len, at + width));
    const count = rng.chance(0.1) ? MAX_REPEAT : rng.pick([2, 16, 100, 1000]);
    const rep = Buffer.allocUnsafe(slice.length * count);
    for (let i = 0; i < count; i++) slice.copy(rep, i * slice.length);
    return Buffer.concat([buf.subarray(0, at), rep, buf.subarray(at)]);
  }
  kinds.push('random');
  return Buffer.concat([buf.subarray(0, at), rng.bytes(1 + rng.int(32))]);
}

/** Cuts `buf` into chunks at random points (how a TCP stream delivers it). */
export function randomChunks(rng: Prng, buf: Buffer): Buffer[] {
  if (buf.length < 2 || rng.chance(0.3)) return [buf];
  const n = 1 + rng.int(Math.min(8, buf.length - 1));
  const points = new Set<number>();
  for (let i = 0; i < n; i++) points.add(1 + rng.int(buf.length - 1));
  return splitAt(buf, [...points].sort((a, b) => a - b));
}
