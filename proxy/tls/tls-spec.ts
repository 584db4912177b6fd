/**
 * A compiled TLS context: plain data (it crosses the IPC to workers), with certificate files
 * already read. The secure context is built from it at run time (secure-contexts.ts), once
 * the SDS secrets it names have arrived.
 */
import type { ApiConfigSourceConfig } from '../config/bootstrap-schema.js';
import type { SanType } from '../config/tls-schema.js';

/** Where an SDS secret comes from: the gRPC SDS server of an api_config_source (Istio: sds-grpc). */
export interface SdsSource {
  readonly apiConfigSource: ApiConfigSourceConfig;
  /** A key naming this server (the cluster name), so that one stream serves every secret of it. */
  readonly key: string;
}

/** A certificate and key pair, inline (PEM) or an SDS `tls_certificate` secret. */
export type CertificateSource =
  | { readonly kind: 'inline'; readonly certPem: string; readonly keyPem: string }
  | { readonly kind: 'sds'; readonly name: string; readonly source: SdsSource };

/** Trusted CAs, inline (PEM) or an SDS `validation_context` secret (Istio: ROOTCA). */
export type CaSource = { readonly kind: 'inline'; readonly pem: string } | { readonly kind: 'sds'; readonly name: string; readonly source: SdsSource };

/** One SAN matcher: Envoy's StringMatcher, on SANs of `sanType` (undefined: any type). */
export interface SanMatcherSpec {
  readonly sanType: SanType | undefined;
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: string;
  readonly regex?: string;
  readonly ignoreCase: boolean;
}

export type NodeTlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsSpec {
  readonly side: 'upstream' | 'downstream';
  /** Upstream: the SNI sent. */
  readonly sni: string | undefined;
  readonly alpn: readonly string[];
  readonly certificates: readonly CertificateSource[];
  /** Undefined: the peer's certificate is not verified (Envoy without a validation context). */
  readonly trustedCa: CaSource | undefined;
  /** The peer certificate must have a SAN matching one of these (none: any SAN). */
  readonly sanMatchers: readonly SanMatcherSpec[];
  /** Downstream: a client without a certificate is refused. */
  readonly requireClientCertificate: boolean;
  readonly minVersion: NodeTlsVersion;
  readonly maxVersion: NodeTlsVersion;
  /** OpenSSL cipher string (TLS 1.2 suites plus the fixed TLS 1.3 ones); undefined: node's default. */
  readonly ciphers: string | undefined;
  readonly ecdhCurve: string | undefined;
  /**
   * Set when the context cannot be built (an upstream certificate file that cannot be read,
   * e.g. a control-plane cluster's files outside the pod): connections with it fail with
   * this reason, never in plaintext.
   */
  readonly problem?: string | undefined;
  /** A stable text of the whole spec: equal specs share one secure context. */
  readonly key: string;
}

/** A transport socket: plaintext, or TLS. */
export type TransportSpec = { readonly kind: 'raw' } | { readonly kind: 'tls'; readonly tls: TlsSpec };

export const RAW_TRANSPORT: TransportSpec = { kind: 'raw' };

/** The SDS secrets a spec waits for. */
export function sdsNamesOf(spec: TlsSpec): { name: string; source: SdsSource }[] {
  const out: { name: string; source: SdsSource }[] = [];
  for (const c of spec.certificates) if (c.kind === 'sds') out.push({ name: c.name, source: c.source });
  if (spec.trustedCa?.kind === 'sds') out.push({ name: spec.trustedCa.name, source: spec.trustedCa.source });
  return out;
}
