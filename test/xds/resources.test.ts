/** Decoding LDS/CDS/EDS resources as they come off the wire (protobuf round trip). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { discoveryResponse } from '../../xds-client/messages.js';
import { hostsOf } from '../../proxy/dynamic/resource-types/endpoint-type.js';
import { decodeCluster, decodeListener } from './decoders.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE } from '../../xds-client/type-urls.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { cla, edsCluster, httpListener, mppListener } from '../../tools/testing/xds-resources.js';

function wire(res: Resource): Record<string, unknown> {
  const codec = discoveryResponse();
  return codec.deserialize(codec.serialize({ type_url: String(res['@type']), resources: [res] })).resources![0]!;
}

test('MetaProtocolProxy listeners: direct, udpa TypedStruct and xds TypedStruct; others are not ours', () => {
  const direct = mppListener('a', { rds: 'r_1' });
  const udpa = mppListener('b', { rds: 'r_2', typedStruct: true });
  const xdsTs = mppListener('c', { inlineCluster: 'v1', typedStruct: true });
  const tc = (xdsTs['filter_chains'] as { filters: { typed_config: Record<string, unknown> }[] }[])[0]!.filters[0]!.typed_config;
  tc['@type'] = 'type.googleapis.com/xds.type.v3.TypedStruct';
  for (const [res, rds] of [[direct, 'r_1'], [udpa, 'r_2'], [xdsTs, undefined]] as const) {
    const errors: string[] = [];
    const l = decodeListener(wire(res), errors);
    assert.deepEqual(errors, []);
    assert.ok(l !== undefined && l !== 'not-ours');
    assert.equal(l.rds?.routeConfigName, rds);
    if (rds !== undefined) assert.equal(l.rds?.configSource.api_config_source?.grpc_services[0]?.envoy_grpc.cluster_name, 'aeraki-xds');
  }
  assert.equal(decodeListener(wire(httpListener('virtualInbound')), []), 'not-ours');
  const errors: string[] = [];
  assert.equal(decodeListener(wire(mppListener('bad', { codec: 'no.such.codec' })), errors), undefined);
  assert.match(errors[0]!, /listener bad.*unknown codec 'no.such.codec'/);
});

test('an inline route table with a zero weight (an empty UInt32Value on the wire) is accepted', () => {
  const l = mppListener('inline');
  const tc = (l['filter_chains'] as { filters: { typed_config: Record<string, unknown> }[] }[])[0]!.filters[0]!.typed_config;
  tc['route_config'] = { name: 'in', routes: [{ name: 'split', route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 100 } }, { name: 'b', weight: { value: 0 } }] } } }] };
  const errors: string[] = [];
  const decoded = decodeListener(wire(l), errors);
  assert.deepEqual(errors, []);
  assert.ok(decoded !== undefined && decoded !== 'not-ours');
});

test('clusters: EDS service name, static hosts, ORIGINAL_DST (no hosts of its own), unsupported kinds kept without hosts', () => {
  const warnings: string[] = [];
  const errors: string[] = [];
  const eds = decodeCluster(wire({ ...edsCluster('outbound|20880||demo'), eds_cluster_config: { service_name: 'svc-a', eds_config: { ads: {} } } }), errors, warnings);
  assert.deepEqual(eds?.eds?.serviceName, 'svc-a');
  assert.ok(eds?.eds?.configSource?.ads !== undefined);
  assert.equal(eds?.cluster.connectTimeoutMs, 1000);
  const dst = decodeCluster(wire({ '@type': CLUSTER_TYPE, name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' }), errors, warnings);
  assert.deepEqual(dst?.cluster.hosts, []);
  assert.equal(dst?.cluster.originalDst, true, 'transparent interception: each connection goes to its original destination');
  const custom = decodeCluster(wire({ '@type': CLUSTER_TYPE, name: 'custom', cluster_type: { name: 'envoy.clusters.aggregate' } }), errors, warnings);
  assert.deepEqual(custom?.cluster.hosts, []);
  assert.match(warnings.join(), /custom: type CUSTOM is not supported/);
  assert.deepEqual(errors, []);
});

test('endpoints: every priority with its level and locality, health and weight; an invalid address is an error', () => {
  const res = wire({
    '@type': ENDPOINT_TYPE,
    cluster_name: 'x',
    endpoints: [
      {
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 20880 } } }, health_status: 'HEALTHY', load_balancing_weight: { value: 3 } },
          { endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 20880 } } }, health_status: 'UNHEALTHY' },
        ],
      },
      {
        priority: 1,
        locality: { region: 'r', zone: 'z' },
        load_balancing_weight: { value: 2 },
        lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.3', port_value: 20880 } } }, metadata: { filter_metadata: { 'envoy.lb': { version: 'v2' } } } }],
      },
    ],
  });
  const errors: string[] = [];
  assert.deepEqual(hostsOf(res, 'x', errors), [
    { address: '10.0.0.1', port: 20880, healthy: true, weight: 3, priority: 0, locality: '//' },
    { address: '10.0.0.2', port: 20880, healthy: false, weight: 1, priority: 0, locality: '//' },
    { address: '10.0.0.3', port: 20880, healthy: true, weight: 1, priority: 1, locality: 'r/z/', localityWeight: 2, labels: { version: 'v2' } },
  ]);
  assert.deepEqual(errors, []);
  assert.equal(hostsOf(wire(cla('y', [0])), 'y', errors), undefined);
  assert.match(errors[0]!, /invalid socket address/);
});

test('traffic_direction survives decoding: an inbound-only drain needs it', () => {
  const inbound = mppListener('in', { inlineCluster: 'v1' });
  inbound['traffic_direction'] = 'INBOUND';
  const unspecified = mppListener('plain', { inlineCluster: 'v1' });
  delete unspecified['traffic_direction'];
  const decoded = [mppListener('out', { inlineCluster: 'v1' }), inbound, unspecified].map((r) => decodeListener(wire(r), []));
  assert.deepEqual(
    decoded.map((l) => (l === undefined || l === 'not-ours' ? l : l.listener.traffic_direction)),
    ['OUTBOUND', 'INBOUND', undefined],
  );
});
