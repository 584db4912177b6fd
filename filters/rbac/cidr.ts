import { isIPv4, isIPv6 } from 'node:net';
import type { CidrRangeConfig } from './rbac-schema.js';

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports). */
const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** `addr` with an IPv4-mapped IPv6 address turned into plain IPv4, so v4 ranges match it. */
export function plainAddress(addr: string): string {
  const m = V4_MAPPED.exec(addr);
  return m === null ? addr : m[1]!;
}

/** The 32 bits of a dotted IPv4 address, or -1 when it is not one. */
export function ipv4Bits(a: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or undefined. */
export function ipv6Groups(a: string): number[] | undefined {
  const zone = a.indexOf('%');
  const s = zone >= 0 ? a.slice(0, zone) : a;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = ipv4Bits(p);
        if (v4 < 0) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}

/**
 * A compiled Envoy CidrRange: `address_prefix` and `prefix_len` (default: the whole
 * address). Bits past the prefix are ignored, as Envoy masks them. An address of the other
 * IP version never matches. Throws with the problem for a prefix that is no IP address or a
 * length longer than the address.
 *
 * It runs per request in `meltemi.filters.rbac`, so addresses are compared as numbers, and
 * the last address checked is remembered (a connection's requests repeat it).
 */
export function compileCidr(c: CidrRangeConfig): (address: string) => boolean {
  const prefix = plainAddress(c.address_prefix);
  if (isIPv4(prefix)) {
    const len = c.prefix_len ?? 32;
    if (len > 32) throw new Error(`prefix_len: ${len} is longer than an IPv4 address (32)`);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const want = (ipv4Bits(prefix) & mask) >>> 0;
    return memoLast((address) => {
      const bits = ipv4Bits(plainAddress(address));
      return bits >= 0 && (bits & mask) >>> 0 === want;
    });
  }
  if (isIPv6(prefix)) {
    const len = c.prefix_len ?? 128;
    if (len > 128) throw new Error(`prefix_len: ${len} is longer than an IPv6 address (128)`);
    const want = ipv6Groups(prefix)!;
    return memoLast((address) => {
      if (address.includes('.') && V4_MAPPED.test(address)) return false;
      const got = ipv6Groups(address);
      if (got === undefined) return false;
      for (let g = 0, left = len; left > 0; g++, left -= 16) {
        const mask = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff;
        if ((got[g]! & mask) !== (want[g]! & mask)) return false;
      }
      return true;
    });
  }
  throw new Error(`address_prefix: ${JSON.stringify(c.address_prefix)} is not an IP address`);
}

function memoLast(test: (address: string) => boolean): (address: string) => boolean {
  let lastAddress: string | undefined;
  let lastResult = false;
  return (address) => {
    if (address !== lastAddress) {
      lastResult = test(address);
      lastAddress = address;
    }
    return lastResult;
  };
}
