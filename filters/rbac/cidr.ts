import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { CidrRangeConfig } from './rbac-schema.js';

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports). */
const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** `addr` with an IPv4-mapped IPv6 address turned into plain IPv4, so v4 ranges match it. */
export function plainAddress(addr: string): string {
  const m = V4_MAPPED.exec(addr);
  return m === null ? addr : m[1]!;
}

/**
 * A compiled Envoy CidrRange: `address_prefix` and `prefix_len` (default: the whole
 * address). Bits past the prefix are ignored, as Envoy masks them. An address of the other
 * IP version never matches. Throws with the problem for a prefix that is no IP address or a
 * length longer than the address.
 */
export function compileCidr(c: CidrRangeConfig): (address: string) => boolean {
  const prefix = plainAddress(c.address_prefix);
  const family = isIPv4(prefix) ? 'ipv4' : isIPv6(prefix) ? 'ipv6' : undefined;
  if (family === undefined) throw new Error(`address_prefix: ${JSON.stringify(c.address_prefix)} is not an IP address`);
  const bits = family === 'ipv4' ? 32 : 128;
  const len = c.prefix_len ?? bits;
  if (len > bits) throw new Error(`prefix_len: ${len} is longer than an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address (${bits})`);
  const list = new BlockList();
  list.addSubnet(prefix, len, family);
  return (address) => {
    const a = plainAddress(address);
    if (family === 'ipv4' ? !isIPv4(a) : !isIPv6(a)) return false;
    return list.check(a, family);
  };
}
