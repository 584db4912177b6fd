/**
 * Opens the socket of an upstream connection: plaintext, or TLS with the cluster's context
 * (SNI, ALPN, the peer's chain verified against the trusted CA, its SAN matched). An
 * upstream connection treats the socket as up on `readyEvent`, after the handshake for TLS,
 * so a failed handshake is a connect failure (no-healthy-upstream), never a reset request.
 */
import net from 'node:net';
import tls from 'node:tls';
import { subjectAltNames } from './san-match.js';
import type { TlsContext } from './tls-runtime.js';

export interface UpstreamSocket {
  readonly socket: net.Socket;
  readonly readyEvent: 'connect' | 'secureConnect';
  /** Set when no connection could be attempted (the TLS secrets have not arrived yet). */
  readonly refused?: string;
}

/** `localAddress`: upstream_bind_config's source address, when the cluster names one. */
export function openUpstreamSocket(host: string, port: number, ctx: TlsContext | undefined, localAddress?: string): UpstreamSocket {
  const bind = localAddress !== undefined ? { localAddress } : {};
  if (ctx === undefined) return { socket: net.connect({ host, port, noDelay: true, ...bind }), readyEvent: 'connect' };
  const secureContext = ctx.current();
  if (secureContext === undefined) {
    const why = ctx.spec.problem ?? 'TLS certificates for this cluster have not arrived from SDS yet';
    return { socket: new net.Socket(), readyEvent: 'connect', refused: why };
  }
  const spec = ctx.spec;
  const verify = spec.trustedCa !== undefined;
  const socket = tls.connect({
    host,
    port,
    ...bind,
    secureContext,
    // Envoy sends SNI only when configured; node would send the host name otherwise.
    servername: spec.sni ?? '',
    ...(spec.alpn.length > 0 ? { ALPNProtocols: [...spec.alpn] } : {}),
    rejectUnauthorized: verify,
    // Envoy does not check the host name; it checks the SANs the config lists (if any).
    checkServerIdentity: (_host, cert) => (ctx.sanMatches(subjectAltNames(cert)) ? undefined : new Error(`upstream certificate SAN does not match (${cert.subjectaltname ?? 'no SAN'})`)),
  });
  socket.setNoDelay(true);
  return { socket, readyEvent: 'secureConnect' };
}
