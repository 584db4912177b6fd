/**
 * The accept path of a listener up to the point where a DownstreamConnection takes over:
 * read the ClientHello without consuming it when the chains need it (tls_inspector), pick
 * the filter chain (filter-chain-match.ts), then terminate TLS with that chain's context or
 * hand the plaintext socket on. One port thus serves mTLS and plaintext (Istio PERMISSIVE);
 * with only a TLS chain (STRICT), a plaintext client matches no chain and is closed.
 */
import type { Socket } from 'node:net';
import type { DownstreamPeer } from './downstream-peer.js';
import { selectFilterChain } from '../downstream/filter-chain-match.js';
import type { ChainMatchSpec, ConnectionFacts } from '../downstream/filter-chain-match.js';
import { MAX_CLIENT_HELLO_BYTES, inspectClientHello } from './client-hello.js';
import { plaintextPeer } from './downstream-peer.js';
import { acceptTls } from './downstream-tls.js';
import type { TlsAcceptStats } from './downstream-tls.js';
import type { TlsContext } from './tls-runtime.js';

/** A chain at run time: its match and its TLS context (undefined: plaintext). */
export interface RuntimeChain {
  readonly match: ChainMatchSpec;
  readonly tls: TlsContext | undefined;
}

export interface ChainSelection {
  readonly chains: readonly RuntimeChain[];
  /** Read the ClientHello first (a chain matches on TLS, SNI or ALPN). */
  readonly inspect: boolean;
}

/** Envoy's listener_filters_timeout default: a client that sends nothing this long is taken as raw_buffer. */
export const INSPECT_TIMEOUT_MS = 15_000;

export interface AcceptStats extends TlsAcceptStats {
  /** Envoy's `listener.<name>.no_filter_chain_match`. */
  noFilterChainMatch: number;
}

const RAW_FACTS: ConnectionFacts = { transportProtocol: 'raw_buffer', sni: undefined, alpn: [] };

/** `ready` gets the socket to serve (TLS or plaintext) and its peer; refused connections are closed here. */
export function acceptConnection(raw: Socket, sel: ChainSelection, stats: AcceptStats, ready: (socket: Socket, peer: DownstreamPeer) => void): void {
  if (!sel.inspect) return proceed(raw, sel, RAW_FACTS, stats, ready);
  const chunks: Buffer[] = [];
  let size = 0;
  const done = (facts: ConnectionFacts): void => {
    clearTimeout(timer);
    raw.off('data', onData);
    raw.off('end', onEnd);
    raw.pause();
    // The bytes read go back in front of the stream: TLS or the codec reads them first.
    if (chunks.length > 0) raw.unshift(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    proceed(raw, sel, facts, stats, ready);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    const r = inspectClientHello(chunks.length === 1 ? chunk : Buffer.concat(chunks, size));
    if (r.kind === 'need-more' && size < MAX_CLIENT_HELLO_BYTES) return;
    done(r.kind === 'tls' ? { transportProtocol: 'tls', sni: r.sni, alpn: r.alpn } : r.kind === 'raw' ? RAW_FACTS : { transportProtocol: 'tls', sni: undefined, alpn: [] });
  };
  const onEnd = (): void => {
    clearTimeout(timer);
    raw.destroy();
  };
  const timer = setTimeout(() => done(RAW_FACTS), INSPECT_TIMEOUT_MS);
  raw.on('data', onData);
  raw.once('end', onEnd);
  raw.once('close', () => clearTimeout(timer));
}

function proceed(raw: Socket, sel: ChainSelection, facts: ConnectionFacts, stats: AcceptStats, ready: (socket: Socket, peer: DownstreamPeer) => void): void {
  const chain = selectFilterChain(sel.chains, facts);
  if (chain === undefined) {
    stats.noFilterChainMatch++;
    raw.destroy();
    return;
  }
  if (chain.tls !== undefined) {
    acceptTls(raw, chain.tls, stats, ready);
    return;
  }
  ready(raw, plaintextPeer(raw));
  // Paused while inspecting; the connection's own data handler is attached by now.
  raw.resume();
}
