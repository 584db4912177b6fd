/**
 * What a filter may know of the client connection beyond its addresses: whether it came
 * over TLS and who the peer proved to be. Network and per-request authorization (RBAC
 * `authenticated.principal_name`), access logs and Istio stats read it. The same object
 * serves every request of a connection (it is built once, after the handshake).
 */
export interface DownstreamPeer {
  /** True when the connection was TLS-terminated by Meltemi. */
  readonly tls: boolean;
  /**
   * The peer's identity as Envoy's RBAC reads it: the first URI SAN of its certificate (a
   * SPIFFE id in Istio, `spiffe://<trust domain>/ns/<ns>/sa/<sa>`), else the first DNS SAN,
   * else the certificate's subject. Undefined without a verified client certificate.
   */
  readonly peerPrincipal: string | undefined;
  /** Every URI SAN of the verified peer certificate (`%DOWNSTREAM_PEER_URI_SAN%`). */
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
