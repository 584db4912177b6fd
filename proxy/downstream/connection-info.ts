/**
 * The ConnectionInfo of a downstream socket (filters/api/connection.ts): addresses, and on a
 * TLS socket the identity in the peer's certificate. Built once per connection, when a
 * filter or the network RBAC first asks for it.
 */
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

/** The identity in a TLS socket's peer certificate; no certificate gives empty fields. */
export function peerIdentityOfTls(socket: TLSSocket): PeerIdentity {
  const cert = socket.getPeerX509Certificate();
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

function peerOf(socket: Socket): PeerIdentity | undefined {
  const given = (socket as Socket & { [PEER_IDENTITY]?: PeerIdentity })[PEER_IDENTITY];
  if (given !== undefined) return given;
  if (identitySource !== undefined) return identitySource(socket);
  return socket instanceof TLSSocket ? peerIdentityOfTls(socket) : undefined;
}

export function connectionInfoOf(socket: Socket): ConnectionInfo {
  const remoteAddress = socket.remoteAddress ?? '';
  const servername = socket instanceof TLSSocket ? (socket as TLSSocket & { servername?: string | false | null }).servername : undefined;
  return {
    remoteAddress,
    remotePort: socket.remotePort ?? 0,
    directRemoteAddress: remoteAddress,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    peer: peerOf(socket),
    requestedServerName: typeof servername === 'string' ? servername : '',
  };
}
