/**
 * TLS fields Meltemi cannot honour are refused with their path (bootstrap and CDS alike), and
 * a cluster with an UpstreamTlsContext compiles to TLS, never to plaintext.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { decodeCluster } from '../../proxy/dynamic/resource-types/cluster-type.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

const UP = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function tlsCluster(ctx: Record<string, unknown>): object {
  return staticCluster('c', [1], { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': UP, ...ctx } } });
}

function problems(boot: object): string {
  try {
    compileBootstrap(boot);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

test('a supported UpstreamTlsContext compiles to TLS with its SNI, ALPN and SAN matchers', () => {
  const cfg = compileBootstrap(
    bootstrapOf([], [tlsCluster({ sni: 'outbound_.80_._.x', common_tls_context: { alpn_protocols: ['istio'], validation_context: { trusted_ca: { inline_string: CA }, match_subject_alt_names: [{ exact: 'spiffe://td/ns/a/sa/b' }] } } })]),
  );
  const t = cfg.clusters[0]!.transport!;
  assert.equal(t.default.kind, 'tls');
  if (t.default.kind !== 'tls') return;
  assert.equal(t.default.tls.sni, 'outbound_.80_._.x');
  assert.deepEqual(t.default.tls.alpn, ['istio']);
  assert.equal(t.default.tls.sanMatchers[0]!.exact, 'spiffe://td/ns/a/sa/b');
  // Envoy's client default: at most TLS 1.2 unless tls_params says otherwise.
  assert.equal(t.default.tls.maxVersion, 'TLSv1.2');
});

test('an unsupported TLS field is refused with its path', () => {
  const msg = problems(bootstrapOf([], [tlsCluster({ max_session_keys: 3 })]));
  assert.match(msg, /static_resources\.clusters\[0\]\.transport_socket\.typed_config\.max_session_keys: not supported by Meltemi/);
  const msg2 = problems(bootstrapOf([], [tlsCluster({ common_tls_context: { tls_certificate_provider_instance: { instance_name: 'x' } } })]));
  assert.match(msg2, /common_tls_context\.tls_certificate_provider_instance: not supported by Meltemi/);
});

test('another transport socket, SAN matching without a CA and unknown ciphers are refused', () => {
  assert.match(problems(bootstrapOf([], [staticCluster('c', [1], { transport_socket: { name: 'envoy.transport_sockets.alts' } })])), /transport_socket\.name: transport socket 'envoy\.transport_sockets\.alts' is not supported/);
  assert.match(problems(bootstrapOf([], [tlsCluster({ common_tls_context: { validation_context: { match_subject_alt_names: [{ exact: 'x' }] } } })])), /SAN matching without trusted_ca is refused/);
  assert.match(problems(bootstrapOf([], [tlsCluster({ common_tls_context: { tls_params: { cipher_suites: ['NOT-A-CIPHER'] } } })])), /cipher_suites\[0\]: cipher suite 'NOT-A-CIPHER' is not known/);
});

test('CDS: a cluster with an unsupported TLS field is NACKed, an SDS one (ISTIO_MUTUAL) is accepted', () => {
  const bad = decodeCluster({ name: 'c', type: 'STATIC', transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': UP, allow_renegotiation: true } } });
  assert.equal(bad.kind, 'invalid');
  assert.match(bad.kind === 'invalid' ? bad.errors.join('\n') : '', /allow_renegotiation: not supported by Meltemi/);
  const sds = { api_config_source: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], set_node_on_first_message_only: true, transport_api_version: 'V3' }, resource_api_version: 'V3', initial_fetch_timeout: { seconds: '0' } };
  const istioTls = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': UP,
      sni: 'outbound_.20880_._.demo.default.svc.cluster.local',
      common_tls_context: {
        tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
        alpn_protocols: ['istio-peer-exchange', 'istio'],
        tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: sds }],
        combined_validation_context: {
          default_validation_context: { match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/default/sa/demo' }] },
          validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: sds },
        },
      },
    },
  };
  const ok = decodeCluster({ name: 'outbound|20880||demo', type: 'EDS', transport_socket_matches: [{ name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: istioTls }, { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer' } }] });
  assert.equal(ok.kind, 'ok', ok.kind === 'invalid' ? ok.errors.join('\n') : '');
  if (ok.kind !== 'ok') return;
  const tr = ok.value.cluster.transport!;
  assert.equal(tr.matches.length, 2);
  assert.equal(tr.matches[0]!.transport.kind, 'tls');
  assert.equal(tr.matches[1]!.transport.kind, 'raw');
});

test('an upstream certificate file that cannot be read leaves the cluster TLS with the reason, never plaintext; a listener one is refused', () => {
  const cfg = compileBootstrap(bootstrapOf([], [tlsCluster({ common_tls_context: { tls_certificates: [{ certificate_chain: { filename: '/nonexistent/cert.pem' }, private_key: { filename: '/nonexistent/key.pem' } }] } })]));
  const t = cfg.clusters[0]!.transport!.default;
  assert.equal(t.kind, 'tls');
  assert.match(t.kind === 'tls' ? (t.tls.problem ?? '') : '', /cannot read \/nonexistent\/cert\.pem/);
  const listener = metaProtocolListener({ routes: [{ name: 'r', cluster: 'c' }] }) as { filter_chains: Record<string, unknown>[] };
  listener.filter_chains[0]!['transport_socket'] = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
      common_tls_context: { tls_certificates: [{ certificate_chain: { filename: '/nonexistent/cert.pem' }, private_key: { filename: '/nonexistent/key.pem' } }] },
    },
  };
  assert.match(problems(bootstrapOf([listener], [staticCluster('c', [1])])), /filter_chains\[0\]\.transport_socket\.typed_config\.common_tls_context\.tls_certificates\[0\]\.certificate_chain\.filename: cannot read/);
});
