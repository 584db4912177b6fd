/** Builds a connection's DownstreamPeer (filters/api/downstream-peer.ts) once, after the handshake. */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { DownstreamPeer } from '../../filters/api/index.js';
import { subjectAltNames } from './san-match.js';

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
  const subject = hasCert && cert.subject !== undefined ? Object.entries(cert.subject).map(([k, v]) => `${k}=${String(v)}`).join(',') : undefined;
  const servername = (tls as TLSSocket & { servername?: string | false }).servername;
  return {
    tls: true,
    peerPrincipal: sans.uri[0] ?? sans.dns[0] ?? (subject !== '' ? subject : undefined),
    peerUriSans: sans.uri,
    peerDnsSans: sans.dns,
    sni: typeof servername === 'string' && servername !== '' ? servername : undefined,
    alpn: typeof tls.alpnProtocol === 'string' ? tls.alpnProtocol : undefined,
    localAddress: addr(raw.localAddress, raw.localPort),
    remoteAddress: addr(raw.remoteAddress, raw.remotePort),
  };
}
