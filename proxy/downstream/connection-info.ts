/**
 * The ConnectionInfo of a downstream socket (filters/api/connection.ts): addresses, and on a
 * TLS socket the identity in the peer's certificate. Built once per connection, when a
 * filter or the network RBAC first asks for it.
 */
import type { DownstreamPeer } from '../tls/downstream-peer.js';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { ConnectionInfo, PeerIdentity } from '../../filters/api/index.js';

/**
 * Where a TLS accept path that does not hand over a node TLSSocket (or already knows the
 * peer) may put the identity: `socket[PEER_IDENTITY] = identity` before the first byte.
 */
export const PEER_IDENTITY = Symbol('meltemi.peerIdentity');

type PeerIdentitySource = (socket: Socket) => PeerIdentity | undefined;

/** A test seam: supplies peer identities for plaintext test connections. */
let identitySource: PeerIdentitySource | undefined;

/**
 * Replaces how a connection's peer identity is found (undefined: back to the certificate).
 * For tests that check principal matching without certificates.
 */
export function setPeerIdentitySource(source: PeerIdentitySource | undefined): void {
  identitySource = source;
}

/** SAN entries as node prints them: `URI:spiffe://a, DNS:b, IP Address:1.2.3.4`. */
const SAN_SPLIT = /, (?=(?:URI|DNS|IP Address|email|DirName|othername|Registered ID):)/;

function unquote(v: string): string {
  // node quotes a SAN value that holds a comma or quote, JSON-style.
  if (v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * The identity in a TLS socket's peer certificate. A certificate that did not verify against
 * the listener's trusted CAs (`authorized` false, e.g. a server that asks for a certificate
 * without requiring one) names nobody: anyone can write any SAN into a self-signed one.
 * No certificate, or an unverified one, gives empty fields (still a TLS peer).
 */
export function peerIdentityOfTls(socket: TLSSocket): PeerIdentity {
  const cert = socket.authorized ? socket.getPeerX509Certificate() : undefined;
  if (cert === undefined) return { principal: undefined, uriSans: [], dnsSans: [], subject: '' };
  const uriSans: string[] = [];
  const dnsSans: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(SAN_SPLIT)) {
    if (entry.startsWith('URI:')) uriSans.push(unquote(entry.slice(4)));
    else if (entry.startsWith('DNS:')) dnsSans.push(unquote(entry.slice(4)));
  }
  // node lists the subject most-significant first, one per line; RFC 2253 reverses it.
  const subject = cert.subject.split('\n').filter((s) => s !== '').reverse().join(',');
  return { principal: uriSans[0], uriSans, dnsSans, subject };
}

/** What a TLS accept path learned in the handshake: used instead of reading the socket when given. */
export type HandshakeFacts = Pick<DownstreamPeer, 'tls' | 'peerPrincipal' | 'peerUriSans' | 'peerDnsSans' | 'sni'>;

function peerOf(socket: Socket, handshake: HandshakeFacts | undefined): PeerIdentity | undefined {
  const given = (socket as Socket & { [PEER_IDENTITY]?: PeerIdentity })[PEER_IDENTITY];
  if (given !== undefined) return given;
  if (identitySource !== undefined) return identitySource(socket);
  if (handshake !== undefined) {
    if (!handshake.tls) return undefined;
    const sans = handshake.peerUriSans.length + handshake.peerDnsSans.length;
    // Without SANs the accept path's principal is the subject.
    return { principal: handshake.peerUriSans[0], uriSans: handshake.peerUriSans, dnsSans: handshake.peerDnsSans, subject: sans === 0 ? (handshake.peerPrincipal ?? '') : '' };
  }
  return socket instanceof TLSSocket ? peerIdentityOfTls(socket) : undefined;
}

/**
 * The ConnectionInfo of `socket`; `handshake` when the TLS accept path already read the peer;
 * `originalDestination` when the connection was intercepted and its original destination
 * recovered: it is the local address then (what RBAC's destination_ip/destination_port match).
 */
export function connectionInfoOf(socket: Socket, handshake?: HandshakeFacts, originalDestination?: { readonly address: string; readonly port: number }): ConnectionInfo {
  const remoteAddress = socket.remoteAddress ?? '';
  const servername =
    handshake !== undefined ? handshake.sni : socket instanceof TLSSocket ? (socket as TLSSocket & { servername?: string | false | null }).servername : undefined;
  return {
    remoteAddress,
    remotePort: socket.remotePort ?? 0,
    directRemoteAddress: remoteAddress,
    localAddress: originalDestination?.address ?? socket.localAddress ?? '',
    localPort: originalDestination?.port ?? socket.localPort ?? 0,
    peer: peerOf(socket, handshake),
    requestedServerName: typeof servername === 'string' ? servername : '',
  };
}
