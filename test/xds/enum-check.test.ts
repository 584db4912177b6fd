/**
 * Unknown enum values (xds-client/enum-check.ts): protobufjs decodes them as bare numbers;
 * fields whose proto says `defined_only` must hold a known value, or the resource is NACKed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEnumValues } from '../../xds-client/enum-check.js';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { decodeCluster } from './decoders.js';
import { CLUSTER_TYPE } from '../../xds-client/type-urls.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import { staticXdsCluster, xdsBootstrap } from '../../tools/testing/xds-resources.js';

const CLUSTER = 'envoy.config.cluster.v3.Cluster';

test('a Cluster with an unknown discovery type or lb_policy is an error naming the cluster and the field', () => {
  const errors: string[] = [];
  const warnings: string[] = [];
  assert.equal(decodeCluster({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: 'odd', type: 99 }, errors, warnings), undefined);
  assert.deepEqual(errors, ['cluster odd: type: unknown value 99 of enum envoy.config.cluster.v3.Cluster.DiscoveryType']);
  const errors2: string[] = [];
  decodeCluster({ name: 'odd2', type: 'STATIC', lb_policy: 77 }, errors2, warnings);
  assert.deepEqual(errors2, ['cluster odd2: lb_policy: unknown value 77 of enum envoy.config.cluster.v3.Cluster.LbPolicy']);
  // Known values (named) pass, including ones Meltemi only warns about.
  const ok: string[] = [];
  assert.notEqual(decodeCluster({ name: 'fine', type: 'STATIC', lb_policy: 'CLUSTER_PROVIDED' }, ok, warnings), undefined);
  assert.deepEqual(ok, []);
});

test('nested enums are checked: lists, maps and Any payloads; fields without defined_only are left alone', () => {
  const errors: string[] = [];
  checkEnumValues(
    CLUSTER,
    {
      name: 'c',
      dns_lookup_family: 7,
      circuit_breakers: { thresholds: [{ priority: 'DEFAULT' }, { priority: 5 }] },
      load_assignment: {
        cluster_name: 'c',
        endpoints: [{ lb_endpoints: [{ health_status: 42, endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1, protocol: 9 } } } }] }],
      },
      eds_cluster_config: { eds_config: { resource_api_version: 8, api_config_source: { api_type: 'GRPC', transport_api_version: 'V3' } } },
      metadata: { filter_metadata: { 'envoy.lb': { any: 99 } } },
    },
    'cluster c',
    errors,
  );
  assert.deepEqual(errors, [
    'cluster c: dns_lookup_family: unknown value 7 of enum envoy.config.cluster.v3.Cluster.DnsLookupFamily',
    'cluster c: circuit_breakers.thresholds[1].priority: unknown value 5 of enum envoy.config.core.v3.RoutingPriority',
    'cluster c: load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.protocol: unknown value 9 of enum envoy.config.core.v3.SocketAddress.Protocol',
    'cluster c: eds_cluster_config.eds_config.resource_api_version: unknown value 8 of enum envoy.config.core.v3.ApiVersion',
  ]);
  // An Any payload is checked with its own type.
  const inAny: string[] = [];
  const tls = { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_params: { tls_minimum_protocol_version: 9 } } };
  checkEnumValues(CLUSTER, { name: 'c', transport_socket: { name: 'tls', typed_config: tls } }, 'cluster c', inAny);
  assert.deepEqual(inAny, ['cluster c: transport_socket.typed_config.common_tls_context.tls_params.tls_minimum_protocol_version: unknown value 9 of enum envoy.extensions.transport_sockets.tls.v3.TlsParameters.TlsProtocol']);
  const inMap: string[] = [];
  checkEnumValues(CLUSTER, { name: 'c', typed_extension_protocol_options: { k: tls } }, 'cluster c', inMap);
  assert.equal(inMap.length, 1);
  assert.match(inMap[0]!, /^cluster c: typed_extension_protocol_options\["k"\]\.common_tls_context\.tls_params\.tls_minimum_protocol_version: unknown value 9/);
  // Enums without defined_only stay open, as in Envoy (health_status above; this one too).
  const open: string[] = [];
  const http = { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', common_http_protocol_options: { headers_with_underscores_action: 12 } };
  checkEnumValues(CLUSTER, { name: 'c', typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': http } }, 'cluster c', open);
  assert.deepEqual(open, []);
});

test('CDS: a response with a cluster of discovery type 99 is NACKed as a whole, naming the cluster and the field', async () => {
  const cp = new TestControlPlane('go-control-plane');
  await cp.start();
  cp.set(CLUSTER_TYPE, 'c1', [staticXdsCluster('good', [1])]);
  const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
  try {
    await waitFor('c1', () => m.server.clusterNames().includes('good'));
    cp.set(CLUSTER_TYPE, 'c2', [staticXdsCluster('good2', [2]), { ...staticXdsCluster('odd', [3]), type: 99, lb_policy: 77 }]);
    const nack = (): DiscoveryRequest | undefined => cp.requestsOf(CLUSTER_TYPE).map((r) => r.request as DiscoveryRequest).find((r) => r.error_detail != null);
    await waitFor('NACK', () => nack() !== undefined);
    assert.equal(nack()!.version_info, 'c1');
    assert.match(nack()!.error_detail!.message, /cluster odd: type: unknown value 99 of enum envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType/);
    assert.match(nack()!.error_detail!.message, /cluster odd: lb_policy: unknown value 77/);
    assert.ok(m.server.clusterNames().includes('good') && !m.server.clusterNames().includes('good2'), 'nothing of the rejected response is applied');
  } finally {
    await m.close();
    cp.stop();
  }
});
