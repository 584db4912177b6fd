/**
 * The TLS steps of a listener's accept path, around the filter chain selection
 * (proxy/downstream/filter-chain-match.ts): the tls_inspector reads the ClientHello without
 * consuming it, so the selection sees transport_protocol, SNI and ALPN; then the chosen
 * chain terminates TLS with its DownstreamTlsContext, or hands the plaintext socket on. One
 * port thus serves mTLS and plaintext (Istio PERMISSIVE); with only a TLS chain (STRICT), a
 * plaintext client matches no chain and is closed.
 */
import type { Socket } from 'node:net';
import type { DownstreamPeer } from './downstream-peer.js';
import { MAX_CLIENT_HELLO_BYTES, inspectClientHello } from './client-hello.js';
import { plaintextPeer } from './downstream-peer.js';
import { acceptTls } from './downstream-tls.js';
import type { TlsAcceptStats } from './downstream-tls.js';
import type { TlsContext } from './tls-runtime.js';

/** What the tls_inspector learned of a connection (ConnectionFacts' TLS fields). */
export interface TlsFacts {
  /** `tls` when a ClientHello came first, else `raw_buffer`. */
  readonly transportProtocol: 'tls' | 'raw_buffer';
  /** The SNI of the ClientHello ('' without). */
  readonly serverName: string;
  /** The ALPN values the client offered (empty without). */
  readonly applicationProtocols: readonly string[];
}

export const RAW_FACTS: TlsFacts = { transportProtocol: 'raw_buffer', serverName: '', applicationProtocols: [] };

/** Envoy's listener_filters_timeout default: a client that sends nothing this long is taken as raw_buffer. */
export const INSPECT_TIMEOUT_MS = 15_000;

/**
 * Reads the first bytes of `raw` until they are a whole ClientHello or clearly not one, puts
 * them back in front of the stream and calls `done` with what they said. The socket is left
 * paused: whoever serves it resumes it (terminate()). A client that closes first is closed.
 */
export function inspectTls(raw: Socket, done: (facts: TlsFacts) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const finish = (facts: TlsFacts): void => {
    clearTimeout(timer);
    raw.off('data', onData);
    raw.off('end', onEnd);
    raw.pause();
    // The bytes read go back in front of the stream: TLS or the codec reads them first.
    if (chunks.length > 0) raw.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    done(facts);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    const r = inspectClientHello(chunks.length === 1 ? chunk : Buffer.concat(chunks, size));
    if (r.kind === 'need-more' && size < MAX_CLIENT_HELLO_BYTES) return;
    finish(
      r.kind === 'tls'
        ? { transportProtocol: 'tls', serverName: r.sni ?? '', applicationProtocols: r.alpn }
        : r.kind === 'raw'
          ? RAW_FACTS
          : { transportProtocol: 'tls', serverName: '', applicationProtocols: [] },
    );
  };
  const onEnd = (): void => {
    clearTimeout(timer);
    raw.destroy();
  };
  const timer = setTimeout(() => finish(RAW_FACTS), INSPECT_TIMEOUT_MS);
  raw.on('data', onData);
  raw.once('end', onEnd);
  raw.once('close', () => clearTimeout(timer));
}

/**
 * Terminates TLS on `raw` with the chain's context (`ready` once the handshake and the peer
 * checks passed; a refused connection is closed and counted in `stats`), or hands the
 * plaintext socket on at once. `paused`: the inspector left the socket paused.
 */
export function terminate(raw: Socket, tls: TlsContext | undefined, stats: TlsAcceptStats, paused: boolean, ready: (socket: Socket, peer: DownstreamPeer) => void): void {
  if (tls !== undefined) {
    acceptTls(raw, tls, stats, ready);
    return;
  }
  ready(raw, plaintextPeer(raw));
  // The connection's own data handler is attached by now.
  if (paused) raw.resume();
}
