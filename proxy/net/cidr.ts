import net from 'node:net';

/**
 * An IP prefix (Envoy's CidrRange: `address_prefix` and `prefix_len`), compiled to a number
 * (IPv4) or a bigint (IPv6) so that a match is a mask and a compare.
 */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bits: number;
  readonly value: bigint;
  readonly text: string;
}

function v4(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6(address: string): bigint {
  let text = address;
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad !== null) {
    const n = v4(quad[1]!);
    text = `${text.slice(0, -quad[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An address as (family, value); undefined when it is not an IP address. */
export function ipValue(address: string): { family: 4 | 6; value: bigint } | undefined {
  // An IPv4-mapped IPv6 address (a dual-stack socket) is matched as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped === null ? address : mapped[1]!;
  const fam = net.isIP(a);
  if (fam === 4) return { family: 4, value: v4(a) };
  if (fam === 6) return { family: 6, value: v6(a) };
  return undefined;
}

/** Compiles a prefix; a string describing the problem when it is not one. */
export function parseCidr(prefix: string, len: number | undefined): Cidr | string {
  const ip = ipValue(prefix);
  if (ip === undefined) return `'${prefix}' is not an IP address`;
  const width = ip.family === 4 ? 32 : 128;
  const bits = len ?? width;
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return `prefix_len ${bits} is out of range for ${prefix} (0..${width})`;
  const shift = BigInt(width - bits);
  return { family: ip.family, bits, value: (ip.value >> shift) << shift, text: `${prefix}/${bits}` };
}

/** Whether `ip` lies in `cidr`. */
export function cidrContains(cidr: Cidr, ip: { family: 4 | 6; value: bigint }): boolean {
  if (ip.family !== cidr.family) return false;
  const shift = BigInt((cidr.family === 4 ? 32 : 128) - cidr.bits);
  return (ip.value >> shift) << shift === cidr.value;
}
