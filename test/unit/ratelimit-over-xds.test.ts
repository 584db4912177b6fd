/**
 * Aeraki's global rate-limit filter as it arrives over xDS: the MetaProtocolProxy in a
 * Listener's Any, the filter config an Any of aeraki...ratelimit.v1alpha.RateLimit, through
 * protobuf bytes and back, then Meltemi's listener decoding.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TO_OBJECT, xdsType } from '../../xds-client/proto-root.js';
import { decodeListener } from '../xds/decoders.js';

const MPP = 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy';

function listenerWith(filters: object[]): Record<string, unknown> {
  const type = xdsType('envoy.config.listener.v3.Listener');
  const json = {
    name: 'inbound|20880||',
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.meta_protocol_proxy',
            typed_config: {
              '@type': MPP,
              stat_prefix: 'inbound|20880||',
              application_protocol: 'dubbo',
              codec: { name: 'aeraki.meta_protocol.codec.dubbo' },
              route_config: { name: 'inbound|20880||', routes: [{ name: 'default', route: { cluster: 'inbound|20880||' } }] },
              meta_protocol_filters: [...filters, { name: 'aeraki.meta_protocol.filters.router' }],
            },
          },
        ],
      },
    ],
  };
  const bytes = type.encode(type.fromObject(json)).finish();
  return type.toObject(type.decode(bytes), TO_OBJECT) as Record<string, unknown>;
}

describe('the global rate-limit filter over xDS', () => {
  test("Aeraki's RateLimit Any decodes and the listener is accepted", () => {
    const res = listenerWith([
      {
        name: 'aeraki.meta_protocol.filters.ratelimit',
        config: {
          '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit',
          match: { metadata: [{ name: 'method', exact_match: 'sayHello' }] },
          domain: 'production',
          timeout: { nanos: 100_000_000 },
          failure_mode_deny: true,
          rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: 'outbound|8081||rate-limit-server.meta-dubbo.svc.cluster.local' } }, transport_api_version: 'V3' },
          descriptors: [{ property: 'method', descriptor_key: 'method' }],
        },
      },
    ]);
    const errors: string[] = [];
    const l = decodeListener(res, errors);
    assert.deepEqual(errors, []);
    assert.ok(l !== undefined && l !== 'not-ours');
  });

  test('an unknown filter marked is_optional survives the protobuf round trip and is skipped', () => {
    const res = listenerWith([{ name: 'acme.filters.auth', is_optional: true }]);
    const errors: string[] = [];
    assert.ok(decodeListener(res, errors) !== undefined);
    assert.deepEqual(errors, []);
    const refused: string[] = [];
    decodeListener(listenerWith([{ name: 'acme.filters.auth' }]), refused);
    assert.match(refused.join('\n'), /unknown filter acme\.filters\.auth \(known: /);
  });
});
