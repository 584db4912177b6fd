/**
 * Reads a TLS ClientHello from the first bytes of a connection (Envoy's tls_inspector): is
 * it TLS, and which SNI and ALPN protocols does it offer. Nothing is consumed: the caller
 * keeps the bytes and hands them on. Only the first record is read; a ClientHello longer
 * than one record (rare: huge session tickets) is TLS with what the first record holds.
 */

export type ClientHelloResult =
  | { readonly kind: 'raw' }
  | { readonly kind: 'tls'; readonly sni: string | undefined; readonly alpn: readonly string[] }
  | { readonly kind: 'need-more' };

const RAW: ClientHelloResult = { kind: 'raw' };
const NEED_MORE: ClientHelloResult = { kind: 'need-more' };
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
/** A record is at most 2^14 bytes of plaintext (RFC 8446 §5.1), plus its 5-byte header. */
export const MAX_CLIENT_HELLO_BYTES = 16384 + 5;

export function inspectClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length < 1) return NEED_MORE;
  if (buf[0] !== HANDSHAKE) return RAW;
  if (buf.length < 2) return NEED_MORE;
  if (buf[1] !== 0x03) return RAW;
  if (buf.length < 3) return NEED_MORE;
  if (buf[2]! > 0x04) return RAW;
  if (buf.length < 6) return NEED_MORE;
  if (buf[5] !== CLIENT_HELLO) return RAW;
  const recordLen = buf.readUInt16BE(3);
  const end = 5 + recordLen;
  if (buf.length < end && buf.length < MAX_CLIENT_HELLO_BYTES) return NEED_MORE;
  try {
    return parseHello(buf.subarray(5, Math.min(end, buf.length)));
  } catch {
    // A truncated or malformed hello that starts like TLS: TLS without SNI or ALPN (the
    // handshake will fail on its own, as it would in Envoy).
    return { kind: 'tls', sni: undefined, alpn: [] };
  }
}

function parseHello(h: Buffer): ClientHelloResult {
  // type(1) length(3) version(2) random(32)
  let p = 1 + 3 + 2 + 32;
  p += 1 + h.readUInt8(p); // session id
  p += 2 + h.readUInt16BE(p); // cipher suites
  p += 1 + h.readUInt8(p); // compression methods
  let sni: string | undefined;
  let alpn: string[] = [];
  if (p + 2 > h.length) return { kind: 'tls', sni, alpn };
  const extEnd = Math.min(h.length, p + 2 + h.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    const body = h.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    if (type === EXT_SERVER_NAME) sni = serverName(body);
    else if (type === EXT_ALPN) alpn = protocols(body);
  }
  return { kind: 'tls', sni, alpn };
}

function serverName(b: Buffer): string | undefined {
  let p = 2;
  const end = Math.min(b.length, 2 + b.readUInt16BE(0));
  while (p + 3 <= end) {
    const type = b[p]!;
    const len = b.readUInt16BE(p + 1);
    if (type === 0) return b.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return undefined;
}

function protocols(b: Buffer): string[] {
  const out: string[] = [];
  let p = 2;
  const end = Math.min(b.length, 2 + b.readUInt16BE(0));
  while (p < end) {
    const len = b[p]!;
    out.push(b.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}
