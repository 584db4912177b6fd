/**
 * The config side of interception: the listener and cluster shapes istiod generates compile
 * (static bootstrap and xDS), and what cannot be honoured is refused by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/errors.js';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { originalDstUnavailable } from '../../proxy/net/original-dst.js';
import { decodeCluster } from '../../proxy/dynamic/resource-types/cluster-type.js';
import { decodeListener } from '../../proxy/dynamic/resource-types/listener-type.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const tcp = (cluster: string, extra: Record<string, unknown> = {}): object => ({ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: cluster, cluster } }], ...extra });

function problems(doc: object): string[] {
  try {
    compileBootstrap(doc);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [...err.problems];
  }
}

const virtualOutbound = {
  name: 'virtualOutbound',
  address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
  use_original_dst: true,
  filter_chains: [tcp('BlackHoleCluster', { name: 'virtualOutbound-blackhole', filter_chain_match: { destination_port: 15001 } }), tcp('PassthroughCluster', { name: 'virtualOutbound-catchall-tcp' })],
};
const clusters = [
  { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '1s' },
  { name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '1s' },
  { name: 'InboundPassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '1s', upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } },
];

test("istiod's virtualOutbound and a bind_to_port: false VIP listener compile (or name the missing addon)", () => {
  const vip = { ...metaProtocolListener({ name: '240.240.0.5_20880', routes: [{ name: 'all', cluster: 'BlackHoleCluster' }] }), address: { socket_address: { address: '240.240.0.5', port_value: 20880 } }, bind_to_port: false };
  const doc = bootstrapOf([virtualOutbound, vip], clusters);
  const missing = originalDstUnavailable();
  if (missing !== undefined) {
    assert.deepEqual(problems(doc), [`static_resources.listeners[0]: use_original_dst needs the original destination of each connection, which is not available here: ${missing}`]);
    return;
  }
  const c = compileBootstrap(doc);
  const [vo, l] = c.listeners;
  assert.equal(vo!.useOriginalDst, true);
  assert.deepEqual(vo!.chains.map((ch) => `${ch.name}:${ch.kind}`), ['virtualOutbound-blackhole:tcp', 'virtualOutbound-catchall-tcp:tcp']);
  assert.equal(l!.bindToPort, false);
  assert.equal(c.clusters.find((x) => x.name === 'PassthroughCluster')!.originalDst, true);
  assert.equal(c.clusters.find((x) => x.name === 'InboundPassthroughCluster')!.sourceAddress, '127.0.0.6');
});

test('TPROXY (transparent: true) needs no getsockopt: it compiles even without the addon', () => {
  const c = compileBootstrap(bootstrapOf([{ ...virtualOutbound, transparent: true }], clusters));
  assert.equal(c.listeners[0]!.transparent, true);
});

test('what cannot be honoured is refused by name', () => {
  const listener = (over: Record<string, unknown>): object => ({ name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [tcp('BlackHoleCluster')], ...over });
  const p = problems(
    bootstrapOf(
      [
        listener({ name: 'a', listener_filters: [{ name: 'envoy.filters.listener.original_src' }] }),
        listener({ name: 'b', filter_chains: [tcp('BlackHoleCluster', { filter_chain_match: { destination_port: 80 } }), tcp('PassthroughCluster', { filter_chain_match: { destination_port: 80 } })] }),
        listener({ name: 'c', bind_to_port: false, transparent: true }),
        listener({ name: 'd', filter_chains: [{ filters: [{ name: 'envoy.filters.network.redis_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy' } }] }] }),
        listener({ name: 'e', filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 's', cluster: 'x', access_log: [{ name: 'f', typed_config: { path: '/dev/stdout', log_format: { text_format_source: { inline_string: '%REQ(:PATH)%' } } } }] } }] }] }),
        listener({ name: 'f', filter_chains: [] }),
      ],
      [{ name: 'odd', type: 'STATIC', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: '1s' }, { ...staticCluster('od', [1]), type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' }],
    ),
  );
  const has = (re: RegExp): void => assert.ok(p.some((x) => re.test(x)), `${re} not in:\n${p.join('\n')}`);
  has(/listeners\[0\]\.listener_filters\[0\]: unknown listener filter 'envoy\.filters\.listener\.original_src'/);
  has(/listeners\[1\]\.filter_chains\[1\]\.filter_chain_match: the same match as filter_chains\[0\]/);
  has(/listeners\[2\]\.transparent: a listener with bind_to_port false has no socket/);
  has(/listeners\[3\]\.filter_chains\[0\]\.filters\[0\]: unknown network filter 'envoy\.filters\.network\.redis_proxy'/);
  has(/listeners\[4\].*access_log\[0\]\.typed_config\.log_format: unknown access log command %REQ\(:PATH\)%/);
  has(/listeners\[5\]: no filter_chains and no default_filter_chain/);
  has(/clusters\[0\]\.lb_policy: CLUSTER_PROVIDED goes only with type ORIGINAL_DST/);
  has(/clusters\[1\]\.load_assignment: an ORIGINAL_DST cluster has no endpoints of its own/);
});

test('MetaProtocol chains of one listener may not subscribe to two MetaRDS tables', () => {
  const rds = (name: string): object => ({ route_config_name: name, config_source: { ads: {} } });
  const chain = (name: string, port: number): object => {
    const l = metaProtocolListener({ routes: [] }) as { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] };
    const tc: Record<string, unknown> = { ...l.filter_chains[0]!.filters[0]!.typed_config, rds: rds(name) };
    delete tc['route_config'];
    return { filter_chain_match: { destination_port: port }, filters: [{ name: 'envoy.filters.network.meta_protocol_proxy', typed_config: tc }] };
  };
  const p = problems(bootstrapOf([{ name: 'two', address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, filter_chains: [chain('a_1', 1), chain('b_2', 2)] }], []));
  assert.ok(p.some((x) => x.includes('subscribe to 2 MetaRDS route configs (a_1, b_2)')), p.join('\n'));
});

test("xDS: istiod's virtualInbound keeps its tcp_proxy and MetaProtocol chains, drops HTTP chains and the HTTP inspector; wrapped values are read", () => {
  const mx = { name: 'istio.metadata_exchange', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value: { protocol: 'istio-peer-exchange' } } };
  const res = {
    name: 'virtualInbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
    traffic_direction: 'INBOUND',
    listener_filters: [
      { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } },
      { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector' } },
    ],
    filter_chains: [
      { name: 'virtualInbound-blackhole', filter_chain_match: { destination_port: { value: 15006 } }, filters: [mx, { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 'BlackHoleCluster', cluster: 'BlackHoleCluster' } }] },
      { name: 'virtualInbound', filter_chain_match: { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: {} }] }, filters: [mx, { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 'InboundPassthroughCluster', cluster: 'InboundPassthroughCluster' } }] },
      { name: 'virtualInbound-catchall-http', filter_chain_match: { application_protocols: ['http/1.1'] }, filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager' } }] },
    ],
  };
  const r = decodeListener(res);
  const missing = originalDstUnavailable();
  if (missing !== undefined) {
    assert.ok(r.kind === 'invalid' && r.errors.some((e) => e.includes(missing)), JSON.stringify(r));
    return;
  }
  assert.equal(r.kind, 'ok', JSON.stringify(r));
  const d = (r as { value: { listener: import('../../proxy/config/bootstrap-schema.js').ListenerConfig } }).value;
  const chains = d.listener.filter_chains ?? [];
  assert.deepEqual(chains.map((c) => c.name), ['virtualInbound-blackhole', 'virtualInbound']);
  assert.deepEqual(chains[0]!.filter_chain_match, { destination_port: 15006 });
  assert.deepEqual(chains[1]!.filter_chain_match, { prefix_ranges: [{ address_prefix: '0.0.0.0', prefix_len: 0 }] });
  assert.deepEqual(d.listener.listener_filters?.map((f) => f.name), ['envoy.filters.listener.original_dst']);

  const vip = decodeListener({ name: '240.240.0.5_20880', address: { socket_address: { address: '240.240.0.5', port_value: 20880 } }, bind_to_port: {}, filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 's', cluster: 'c' } }] }] });
  assert.ok(vip.kind === 'ok', JSON.stringify(vip));
  assert.equal(vip.value.listener.bind_to_port, false, '`bind_to_port: {}` is a wrapped false');
  assert.equal(decodeListener({ name: 'plain_tcp', address: { socket_address: { address: '0.0.0.0', port_value: 9000 } }, filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TCP_PROXY, stat_prefix: 's', cluster: 'c' } }] }] }).kind, 'ignored');
});

test('xDS: ORIGINAL_DST clusters and upstream_bind_config', () => {
  const r = decodeCluster({ name: 'inbound|20880||', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 1 }, upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } });
  assert.ok(r.kind === 'ok', JSON.stringify(r));
  assert.deepEqual(r.warnings ?? [], []);
  assert.equal(r.value.cluster.originalDst, true);
  assert.equal(r.value.cluster.sourceAddress, '127.0.0.6');
});
