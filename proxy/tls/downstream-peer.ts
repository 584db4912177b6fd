/**
 * What the TLS accept path learned of a connection in its handshake. Internal to the proxy:
 * filters read it as `FilterExchange.connection` (filters/api/connection.ts), which
 * connectionInfoOf (proxy/downstream/connection-info.ts) builds from these facts.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { subjectAltNames } from './san-match.js';

/** Handshake facts of one connection; built once, after the handshake. */
export interface DownstreamPeer {
  /** True when the connection was TLS-terminated by Meltemi. */
  readonly tls: boolean;
  /**
   * The first URI SAN of the peer's certificate, else the first DNS SAN, else its subject.
   * Undefined without a client certificate that verified.
   */
  readonly peerPrincipal: string | undefined;
  /** Every URI SAN of the verified peer certificate. */
  readonly peerUriSans: readonly string[];
  readonly peerDnsSans: readonly string[];
  /** The SNI the client sent, when it sent one. */
  readonly sni: string | undefined;
  /** The ALPN protocol negotiated, when one was. */
  readonly alpn: string | undefined;
  /** `address:port` the client connected to. */
  readonly localAddress: string;
  /** `address:port` of the client. */
  readonly remoteAddress: string;
}

const addr = (a: string | undefined, p: number | undefined): string => `${a ?? ''}:${p ?? 0}`;

export function plaintextPeer(socket: Socket): DownstreamPeer {
  return {
    tls: false,
    peerPrincipal: undefined,
    peerUriSans: [],
    peerDnsSans: [],
    sni: undefined,
    alpn: undefined,
    localAddress: addr(socket.localAddress, socket.localPort),
    remoteAddress: addr(socket.remoteAddress, socket.remotePort),
  };
}

/**
 * `raw` is the TCP socket under `tls` (its addresses are the connection's). `verified`: the
 * peer certificate was checked against a trusted CA (downstream-tls.ts); an unverified one
 * names no principal.
 */
export function tlsPeer(tls: TLSSocket, raw: Socket, verified: boolean): DownstreamPeer {
  const cert = verified ? tls.getPeerCertificate() : undefined;
  const hasCert = cert !== undefined && Object.keys(cert).length > 0;
  const sans = subjectAltNames(hasCert ? cert : undefined);
  // RFC 2253 order (least significant first), as connection-info.ts prints subjects.
  const x509 = hasCert ? tls.getPeerX509Certificate() : undefined;
  const subject = x509 !== undefined ? x509.subject.split('\n').filter((p) => p !== '').reverse().join(',') : undefined;
  const servername = (tls as TLSSocket & { servername?: string | false }).servername;
  return {
    tls: true,
    peerPrincipal: sans.uri[0] ?? sans.dns[0] ?? (subject !== undefined && subject !== '' ? subject : undefined),
    peerUriSans: sans.uri,
    peerDnsSans: sans.dns,
    sni: typeof servername === 'string' && servername !== '' ? servername : undefined,
    alpn: typeof tls.alpnProtocol === 'string' ? tls.alpnProtocol : undefined,
    localAddress: addr(raw.localAddress, raw.localPort),
    remoteAddress: addr(raw.remoteAddress, raw.remotePort),
  };
}
