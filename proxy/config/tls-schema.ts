/**
 * The schema of `envoy.transport_sockets.tls`: UpstreamTlsContext (clusters) and
 * DownstreamTlsContext (listener filter chains). Only what node:tls can honour is listed;
 * every other field of these messages is refused with its path ("not supported by
 * Meltemi"), so a TLS config is never half applied (a cluster asked for TLS never goes out
 * in plaintext). proxy/tls/compile-tls.ts turns the parsed value into a TlsSpec.
 */
import { list, object, oneOfValues, optional, str, unknownValue } from '../../config/schema.js';
import type { Infer, Schema } from '../../config/schema.js';
import { bool } from '../../config/schema.js';
import { stringMatcher } from '../../config/matchers.js';

export const UPSTREAM_TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const DOWNSTREAM_TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
export const RAW_BUFFER_TRANSPORT_SOCKET = 'envoy.transport_sockets.raw_buffer';

/** google.protobuf.BoolValue: `true` in a bootstrap, `{ value: true }` from xDS. */
const wrappedBool = (): Schema<boolean> => {
  const inner = bool();
  return {
    optional: false,
    shape: inner.shape,
    parse: (v, path, errors) =>
      typeof v === 'object' && v !== null && !Array.isArray(v) && 'value' in v ? inner.parse((v as { value: unknown }).value, `${path}.value`, errors) : inner.parse(v, path, errors),
  };
};

/** Envoy's DataSource; only the kinds that hold PEM text. */
const dataSource = object(
  { filename: optional(str({ minLength: 1 })), inline_bytes: optional(str()), inline_string: optional(str()) },
  { oneOf: [['filename', 'inline_bytes', 'inline_string']], proto: 'envoy.config.core.v3.DataSource' },
);
export type DataSourceConfig = Infer<typeof dataSource>;

const tlsCertificate = object(
  { certificate_chain: dataSource, private_key: dataSource },
  { proto: 'envoy.extensions.transport_sockets.tls.v3.TlsCertificate' },
);

/** An SDS secret by name; `sds_config` is a ConfigSource, checked in proxy/tls/compile-tls.ts. */
const sdsSecretConfig = object(
  { name: str({ minLength: 1 }), sds_config: optional(unknownValue()) },
  { proto: 'envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig' },
);
export type SdsSecretConfigValue = Infer<typeof sdsSecretConfig>;


const SAN_TYPES = ['EMAIL', 'DNS', 'URI', 'IP_ADDRESS'] as const;
export type SanType = (typeof SAN_TYPES)[number];

const validationContext = object(
  {
    trusted_ca: optional(dataSource),
    match_subject_alt_names: optional(list(stringMatcher)),
    match_typed_subject_alt_names: optional(
      list(object({ san_type: oneOfValues(SAN_TYPES), matcher: stringMatcher }, { proto: 'envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher' })),
    ),
  },
  { proto: 'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext' },
);
export type ValidationContextConfig = Infer<typeof validationContext>;

const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

const tlsParams = object(
  {
    tls_minimum_protocol_version: optional(oneOfValues(TLS_VERSIONS)),
    tls_maximum_protocol_version: optional(oneOfValues(TLS_VERSIONS)),
    /** TLS 1.2 suites by their OpenSSL/BoringSSL names; TLS 1.3 suites are fixed, as in Envoy. */
    cipher_suites: optional(list(str({ minLength: 1 }))),
    ecdh_curves: optional(list(str({ minLength: 1 }))),
  },
  { proto: 'envoy.extensions.transport_sockets.tls.v3.TlsParameters' },
);

const commonTlsContext = object(
  {
    tls_params: optional(tlsParams),
    tls_certificates: optional(list(tlsCertificate)),
    tls_certificate_sds_secret_configs: optional(list(sdsSecretConfig)),
    validation_context: optional(validationContext),
    validation_context_sds_secret_config: optional(sdsSecretConfig),
    combined_validation_context: optional(
      object(
        { default_validation_context: validationContext, validation_context_sds_secret_config: sdsSecretConfig },
        { proto: 'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.CombinedCertificateValidationContext' },
      ),
    ),
    alpn_protocols: optional(list(str({ minLength: 1 }))),
  },
  {
    oneOf: [['validation_context', 'validation_context_sds_secret_config', 'combined_validation_context']],
    proto: 'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext',
  },
);
export type CommonTlsContextConfig = Infer<typeof commonTlsContext>;

export const upstreamTlsContext = object(
  { '@type': optional(str()), common_tls_context: optional(commonTlsContext), sni: optional(str()) },
  { proto: 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext' },
);
export type UpstreamTlsContextConfig = Infer<typeof upstreamTlsContext>;

export const downstreamTlsContext = object(
  { '@type': optional(str()), common_tls_context: optional(commonTlsContext), require_client_certificate: optional(wrappedBool()) },
  { proto: 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext' },
);
export type DownstreamTlsContextConfig = Infer<typeof downstreamTlsContext>;

/**
 * A cluster's or filter chain's transport socket. `typed_config` is read by
 * proxy/tls/compile-tls.ts (UpstreamTlsContext or DownstreamTlsContext by side).
 */
export const transportSocket = object({ name: str({ minLength: 1 }), typed_config: optional(unknownValue()) }, { proto: 'envoy.config.core.v3.TransportSocket' });
export type TransportSocketConfig = Infer<typeof transportSocket>;
