/**
 * The TLS side of a listener's accept path: terminates TLS on an accepted socket with the
 * filter chain's context, checks the client certificate as the DownstreamTlsContext says
 * (required or optional, chain verified against the trusted CA, SAN matched), and hands the
 * TLS socket and its DownstreamPeer on once the handshake is done. A failed handshake, or
 * one not done within HANDSHAKE_TIMEOUT_MS, closes that connection only.
 */
import type { Socket } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { DetailedPeerCertificate } from 'node:tls';
import type { DownstreamPeer } from './downstream-peer.js';
import { logger } from '../logger.js';
import { tlsPeer } from './downstream-peer.js';
import { subjectAltNames } from './san-match.js';
import type { TlsContext } from './tls-runtime.js';

/** Envoy's transport_socket_connect_timeout is unset by default; a bound keeps half-open handshakes from piling up. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsAcceptStats {
  /** Envoy's `listener.<name>.ssl.handshake`, `ssl.connection_error`, `ssl.fail_verify_*`. */
  handshakes: number;
  connectionErrors: number;
  failVerifyNoCert: number;
  failVerifySan: number;
  failVerifyError: number;
}

export function newTlsAcceptStats(): TlsAcceptStats {
  return { handshakes: 0, connectionErrors: 0, failVerifyNoCert: 0, failVerifySan: 0, failVerifyError: 0 };
}

/**
 * Starts the server handshake on `raw`. `ready` gets the TLS socket (data flows only after
 * it) and its peer; nothing is called for a connection that failed (it is closed).
 */
export function acceptTls(raw: Socket, ctx: TlsContext, stats: TlsAcceptStats, ready: (socket: Socket, peer: DownstreamPeer) => void): void {
  const secureContext = ctx.current();
  if (secureContext === undefined) {
    // Listeners start after their secrets arrived; this is a bug guard, not a path.
    raw.destroy();
    return;
  }
  const spec = ctx.spec;
  const verify = spec.trustedCa !== undefined;
  const tls = new TLSSocket(raw, {
    isServer: true,
    secureContext,
    requestCert: verify,
    // Required: a missing certificate fails the handshake itself (an alert, as Envoy
    // sends). The chain is checked below in every case (chainTrusted).
    rejectUnauthorized: spec.requireClientCertificate,
    ...(spec.alpn.length > 0 ? { ALPNProtocols: [...spec.alpn] } : {}),
  });
  const fail = (why: string): void => {
    logger.debug({ client: `${raw.remoteAddress ?? ''}:${raw.remotePort ?? 0}`, why }, 'TLS handshake refused');
    tls.destroy();
  };
  const timer = setTimeout(() => {
    stats.connectionErrors++;
    fail('handshake timeout');
  }, HANDSHAKE_TIMEOUT_MS);
  tls.on('error', (err: Error) => {
    clearTimeout(timer);
    stats.connectionErrors++;
    logger.debug({ err: err.message }, 'TLS connection error');
  });
  tls.once('close', () => clearTimeout(timer));
  tls.once('secure', () => {
    clearTimeout(timer);
    try {
      if (verify) {
        const cert = tls.getPeerCertificate();
        const hasCert = cert !== undefined && Object.keys(cert).length > 0;
        if (!hasCert) {
          if (spec.requireClientCertificate) {
            stats.failVerifyNoCert++;
            return fail('no client certificate');
          }
        } else if (!chainTrusted(tls, ctx)) {
          stats.failVerifyError++;
          return fail('client certificate not trusted');
        } else if (!ctx.sanMatches(subjectAltNames(cert))) {
          stats.failVerifySan++;
          return fail('client certificate SAN does not match');
        }
      }
      stats.handshakes++;
      ready(tls, tlsPeer(tls, raw, verify));
    } catch (err) {
      stats.connectionErrors++;
      fail(`internal error: ${(err as Error).message}`);
    }
  });
}

/**
 * The client chain, checked against the trusted CAs: node verifies the chain only for a
 * tls.Server's sockets, and a TLSSocket made on an accepted socket (as here) reports no
 * result, so the leaf and the intermediates the client sent are walked here: each within
 * its validity, each signed by the next, the last signed by a trusted CA.
 */
function chainTrusted(tls: TLSSocket, ctx: TlsContext): boolean {
  const caPem = ctx.inUse.ca;
  if (caPem === undefined) return false;
  const cas = (caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = tls.getPeerCertificate(true); c?.raw !== undefined && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chain.push(new X509Certificate(c.raw));
  }
  const now = Date.now();
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) return false;
    if (cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return true;
    const next = chain[i + 1];
    if (next === undefined || !cert.checkIssued(next) || !cert.verify(next.publicKey)) return false;
  }
  return false;
}
