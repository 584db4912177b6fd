/**
 * Compiles a transport socket (`envoy.transport_sockets.tls` or `raw_buffer`) into a
 * TransportSpec. Everything that cannot be honoured is an error with its path: the schema
 * refuses unknown and unsupported fields, and this file refuses combinations Envoy refuses
 * too (SAN matching without a trusted CA, a required client certificate without one).
 */
import fs from 'node:fs';
import tls from 'node:tls';
import { configSource } from '../config/bootstrap-schema.js';
import {
  DOWNSTREAM_TLS_CONTEXT_TYPE,
  RAW_BUFFER_TRANSPORT_SOCKET,
  TLS_TRANSPORT_SOCKET,
  UPSTREAM_TLS_CONTEXT_TYPE,
  downstreamTlsContext,
  upstreamTlsContext,
} from '../config/tls-schema.js';
import type { CommonTlsContextConfig, DataSourceConfig, SdsSecretConfigValue, TlsVersionName, TransportSocketConfig, ValidationContextConfig } from '../config/tls-schema.js';
import { logger } from '../logger.js';
import { RAW_TRANSPORT } from './tls-spec.js';
import type { CaSource, CertificateSource, NodeTlsVersion, SanMatcherSpec, SdsSource, TlsSpec, TransportSpec } from './tls-spec.js';

/** BoringSSL's TLS 1.3 suites, which Envoy does not let a config change; node needs them named. */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';
const VERSIONS: Record<Exclude<TlsVersionName, 'TLS_AUTO'>, NodeTlsVersion> = { TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };
const RANK: Record<NodeTlsVersion, number> = { TLSv1: 0, 'TLSv1.1': 1, 'TLSv1.2': 2, 'TLSv1.3': 3 };

/** The text of a DataSource (a PEM file or inline PEM), or undefined after an error. */
function readData(ds: DataSourceConfig, path: string, errors: string[]): string | undefined {
  if (ds.filename !== undefined) {
    try {
      return fs.readFileSync(ds.filename, 'utf8');
    } catch (err) {
      errors.push(`${path}.filename: cannot read ${ds.filename}: ${(err as Error).message}`);
      return undefined;
    }
  }
  if (ds.inline_string !== undefined) return ds.inline_string;
  if (ds.inline_bytes !== undefined) return Buffer.from(ds.inline_bytes, 'base64').toString('utf8');
  errors.push(`${path}: one of filename, inline_bytes or inline_string is required`);
  return undefined;
}

/** The SDS server of a secret: an api_config_source of type GRPC (what Istio's sds-grpc is). */
function sdsSourceOf(s: SdsSecretConfigValue, path: string, errors: string[]): SdsSource | undefined {
  if (s.sds_config === undefined) {
    errors.push(`${path}.sds_config: required (static_resources.secrets is not supported by Meltemi)`);
    return undefined;
  }
  const start = errors.length;
  const cs = configSource.parse(s.sds_config, `${path}.sds_config`, errors);
  if (cs === undefined || errors.length > start) return undefined;
  const api = cs.api_config_source;
  if (api === undefined) {
    errors.push(`${path}.sds_config: only api_config_source (a gRPC SDS server such as Istio's sds-grpc) is supported by Meltemi, not SDS over ADS`);
    return undefined;
  }
  if (api.api_type !== 'GRPC') {
    errors.push(`${path}.sds_config.api_config_source.api_type: only GRPC (state of the world, as pilot-agent serves it) is supported by Meltemi, got ${api.api_type}`);
    return undefined;
  }
  return { apiConfigSource: api, key: api.grpc_services[0]!.envoy_grpc.cluster_name };
}

function sanMatchersOf(vc: ValidationContextConfig, path: string, errors: string[]): SanMatcherSpec[] {
  const out: SanMatcherSpec[] = [];
  const add = (m: NonNullable<ValidationContextConfig['match_subject_alt_names']>[number], sanType: SanMatcherSpec['sanType'], p: string): void => {
    if (m.exact === undefined && m.prefix === undefined && m.suffix === undefined && m.contains === undefined && m.safe_regex === undefined) {
      errors.push(`${p}: one of exact, prefix, suffix, contains or safe_regex is required`);
    }
    out.push({
      sanType,
      ...(m.exact !== undefined ? { exact: m.exact } : {}),
      ...(m.prefix !== undefined ? { prefix: m.prefix } : {}),
      ...(m.suffix !== undefined ? { suffix: m.suffix } : {}),
      ...(m.contains !== undefined ? { contains: m.contains } : {}),
      ...(m.safe_regex !== undefined ? { regex: m.safe_regex.regex } : {}),
      ignoreCase: m.ignore_case === true,
    });
  };
  (vc.match_subject_alt_names ?? []).forEach((m, i) => add(m, undefined, `${path}.match_subject_alt_names[${i}]`));
  (vc.match_typed_subject_alt_names ?? []).forEach((m, i) => add(m.matcher, m.san_type, `${path}.match_typed_subject_alt_names[${i}].matcher`));
  return out;
}

function ciphersOf(names: readonly string[] | undefined, path: string, errors: string[]): string | undefined {
  if (names === undefined || names.length === 0) return undefined;
  const known = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
  names.forEach((n, i) => {
    if (n.includes('[') || n.includes('|')) errors.push(`${path}[${i}]: BoringSSL equal-preference groups are not supported by Meltemi (node:tls); list the suites one by one`);
    else if (!known.has(n.toUpperCase())) errors.push(`${path}[${i}]: cipher suite '${n}' is not known to this Node.js (node:tls)`);
  });
  return `${names.join(':')}:${TLS13_SUITES}`;
}

/**
 * ALPN `istio-peer-exchange` obliges both ends to write and strip Istio's metadata-exchange
 * preamble inside the TLS stream (spec/istio-sidecar.md §5.3), which Meltemi does not
 * implement yet. Offering or selecting it would let an Envoy peer send or wait for that
 * preamble, so it is left out of what Meltemi negotiates (with a warning): Envoy then
 * settles on `istio`, which istiod lists too. Filter chain matching still sees the client's
 * full offer.
 */
const PEER_EXCHANGE = 'istio-peer-exchange';
function negotiableAlpn(alpn: readonly string[], path: string): string[] {
  if (!alpn.includes(PEER_EXCHANGE)) return [...alpn];
  logger.warn({ path }, `ALPN ${PEER_EXCHANGE} is not negotiated: Meltemi does not implement the metadata-exchange preamble it requires`);
  return alpn.filter((p) => p !== PEER_EXCHANGE);
}

function versionOf(v: TlsVersionName | undefined, fallback: NodeTlsVersion): NodeTlsVersion {
  return v === undefined || v === 'TLS_AUTO' ? fallback : VERSIONS[v];
}

interface CommonParts {
  certificates: CertificateSource[];
  trustedCa: CaSource | undefined;
  sanMatchers: SanMatcherSpec[];
  alpn: string[];
  minVersion: NodeTlsVersion;
  maxVersion: NodeTlsVersion;
  ciphers: string | undefined;
  ecdhCurve: string | undefined;
}

function commonParts(c: CommonTlsContextConfig | undefined, side: 'upstream' | 'downstream', path: string, errors: string[], fileErrors: string[] = errors): CommonParts {
  const certificates: CertificateSource[] = [];
  (c?.tls_certificates ?? []).forEach((tc, i) => {
    const p = `${path}.tls_certificates[${i}]`;
    const certPem = readData(tc.certificate_chain, `${p}.certificate_chain`, fileErrors);
    const keyPem = readData(tc.private_key, `${p}.private_key`, fileErrors);
    if (certPem !== undefined && keyPem !== undefined) certificates.push({ kind: 'inline', certPem, keyPem });
  });
  (c?.tls_certificate_sds_secret_configs ?? []).forEach((s, i) => {
    const source = sdsSourceOf(s, `${path}.tls_certificate_sds_secret_configs[${i}]`, errors);
    if (source !== undefined) certificates.push({ kind: 'sds', name: s.name, source });
  });
  let trustedCa: CaSource | undefined;
  let sanMatchers: SanMatcherSpec[] = [];
  if (c?.validation_context !== undefined) {
    const vp = `${path}.validation_context`;
    const vc = c.validation_context;
    if (vc.trusted_ca !== undefined) {
      const pem = readData(vc.trusted_ca, `${vp}.trusted_ca`, fileErrors);
      if (pem !== undefined) trustedCa = { kind: 'inline', pem };
    }
    sanMatchers = sanMatchersOf(vc, vp, errors);
    if (trustedCa === undefined && sanMatchers.length > 0 && vc.trusted_ca === undefined) {
      errors.push(`${vp}: SAN matching without trusted_ca is refused (as Envoy does: the SAN of an unverified certificate proves nothing)`);
    }
  } else if (c?.validation_context_sds_secret_config !== undefined) {
    const s = c.validation_context_sds_secret_config;
    const source = sdsSourceOf(s, `${path}.validation_context_sds_secret_config`, errors);
    if (source !== undefined) trustedCa = { kind: 'sds', name: s.name, source };
  } else if (c?.combined_validation_context !== undefined) {
    const cp = `${path}.combined_validation_context`;
    const cvc = c.combined_validation_context;
    if (cvc.default_validation_context.trusted_ca !== undefined) {
      errors.push(`${cp}.default_validation_context.trusted_ca: not supported by Meltemi next to an SDS validation context (the CA comes from validation_context_sds_secret_config)`);
    }
    sanMatchers = sanMatchersOf(cvc.default_validation_context, `${cp}.default_validation_context`, errors);
    const source = sdsSourceOf(cvc.validation_context_sds_secret_config, `${cp}.validation_context_sds_secret_config`, errors);
    if (source !== undefined) trustedCa = { kind: 'sds', name: cvc.validation_context_sds_secret_config.name, source };
  }
  const tp = c?.tls_params;
  const minVersion = versionOf(tp?.tls_minimum_protocol_version, 'TLSv1.2');
  // Envoy's defaults: a client offers at most TLS 1.2, a server accepts up to TLS 1.3.
  const maxVersion = versionOf(tp?.tls_maximum_protocol_version, side === 'upstream' ? 'TLSv1.2' : 'TLSv1.3');
  if (RANK[minVersion] > RANK[maxVersion]) errors.push(`${path}.tls_params: tls_minimum_protocol_version ${minVersion} is above tls_maximum_protocol_version ${maxVersion}`);
  const ciphers = ciphersOf(tp?.cipher_suites, `${path}.tls_params.cipher_suites`, errors);
  const ecdhCurve = tp?.ecdh_curves !== undefined && tp.ecdh_curves.length > 0 ? tp.ecdh_curves.join(':') : undefined;
  return { certificates, trustedCa, sanMatchers, alpn: negotiableAlpn(c?.alpn_protocols ?? [], path), minVersion, maxVersion, ciphers, ecdhCurve };
}

function typedConfigOf(ts: TransportSocketConfig, want: string, path: string, errors: string[]): Record<string, unknown> | undefined {
  const tc = ts.typed_config;
  if (typeof tc !== 'object' || tc === null || Array.isArray(tc)) {
    errors.push(`${path}.typed_config: required for ${TLS_TRANSPORT_SOCKET} (an object with '@type': ${want})`);
    return undefined;
  }
  const type = (tc as Record<string, unknown>)['@type'];
  if (type !== want) {
    errors.push(`${path}.typed_config.@type: expected ${want}, got ${JSON.stringify(type)}`);
    return undefined;
  }
  return tc as Record<string, unknown>;
}

/**
 * The transport of a cluster (`side` upstream) or a filter chain (downstream). Undefined
 * `ts` is plaintext. Returns undefined after pushing errors.
 */
export function compileTransportSocket(ts: TransportSocketConfig | undefined, side: 'upstream' | 'downstream', path: string, errors: string[]): TransportSpec | undefined {
  if (ts === undefined || ts.name === RAW_BUFFER_TRANSPORT_SOCKET) return RAW_TRANSPORT;
  if (ts.name !== TLS_TRANSPORT_SOCKET) {
    errors.push(`${path}.name: transport socket '${ts.name}' is not supported by Meltemi (only ${TLS_TRANSPORT_SOCKET} and ${RAW_BUFFER_TRANSPORT_SOCKET})`);
    return undefined;
  }
  const start = errors.length;
  const tp = `${path}.typed_config`;
  if (side === 'upstream') {
    const raw = typedConfigOf(ts, UPSTREAM_TLS_CONTEXT_TYPE, path, errors);
    if (raw === undefined) return undefined;
    const cfg = upstreamTlsContext.parse(raw, tp, errors);
    if (cfg === undefined || errors.length > start) return undefined;
    // A client certificate file that cannot be read does not refuse the config (a bootstrap's
    // control-plane clusters name files that exist only in the pod): the cluster's
    // connections fail with the reason instead, and never go out in plaintext.
    const fileErrors: string[] = [];
    const parts = commonParts(cfg.common_tls_context, side, `${tp}.common_tls_context`, errors, fileErrors);
    if (errors.length > start) return undefined;
    const problem = fileErrors.length > 0 ? fileErrors.join('; ') : undefined;
    return { kind: 'tls', tls: finish({ side, sni: cfg.sni === '' ? undefined : cfg.sni, requireClientCertificate: false, ...parts, ...(problem !== undefined ? { problem } : {}) }) };
  }
  const raw = typedConfigOf(ts, DOWNSTREAM_TLS_CONTEXT_TYPE, path, errors);
  if (raw === undefined) return undefined;
  const cfg = downstreamTlsContext.parse(raw, tp, errors);
  if (cfg === undefined || errors.length > start) return undefined;
  const parts = commonParts(cfg.common_tls_context, side, `${tp}.common_tls_context`, errors);
  const requireClientCertificate = cfg.require_client_certificate === true;
  if (parts.certificates.length === 0) errors.push(`${tp}.common_tls_context: a server needs a certificate (tls_certificates or tls_certificate_sds_secret_configs)`);
  if (requireClientCertificate && parts.trustedCa === undefined) {
    errors.push(`${tp}.require_client_certificate: needs a validation context with a trusted CA to verify the client certificate against`);
  }
  if (errors.length > start) return undefined;
  return { kind: 'tls', tls: finish({ side, sni: undefined, requireClientCertificate, ...parts }) };
}

function finish(s: Omit<TlsSpec, 'key'>): TlsSpec {
  return { ...s, key: JSON.stringify(s) };
}
