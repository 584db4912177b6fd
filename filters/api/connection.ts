/**
 * What a filter may know of the downstream connection a request came on: its addresses and,
 * on a TLS connection, the peer's certificate identity. Read-only and the same for every
 * request of the connection; the proxy builds it once, when first asked for.
 */
export interface ConnectionInfo {
  /**
   * The client's address (IP only): Envoy's `remote_ip`. Today the physical peer; a listener
   * that restores the original client (proxy protocol) would set it here.
   */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The physical peer's address (IP only): Envoy's `direct_remote_ip`. */
  readonly directRemoteAddress: string;
  /**
   * The address the client connected to (IP only), or the original destination when the
   * listener recovers it (iptables REDIRECT): Envoy's `destination_ip`.
   */
  readonly localAddress: string;
  /** The port the client connected to (or the original destination's): `destination_port`. */
  readonly localPort: number;
  /** The TLS peer, undefined on a plaintext connection (Envoy: no `ssl()` on it). */
  readonly peer: PeerIdentity | undefined;
  /** The SNI the client asked for; '' when none (plaintext, or TLS without SNI). */
  readonly requestedServerName: string;
}

/** The identity a TLS peer presented (its certificate); empty lists when it sent none. */
export interface PeerIdentity {
  /** The first URI SAN (the SPIFFE identity in a mesh); undefined when there is none. */
  readonly principal: string | undefined;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** The certificate's subject in RFC 2253 order (`CN=...,O=...`); '' when no certificate. */
  readonly subject: string;
}
