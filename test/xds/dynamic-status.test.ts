/**
 * What the dynamic layer tells others: per resource its version, last update and last
 * rejection (for /config_dump), "first response applied" per type (for an init manager),
 * and a worker's snapshot compiler that compiles each resource once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ListenerConfig } from '../../proxy/config/bootstrap-schema.js';
import { SnapshotCompiler } from '../../proxy/dynamic/snapshot-compiler.js';
import type { DynamicSnapshot } from '../../proxy/dynamic/dynamic-snapshot.js';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import type { RouteTable } from '../../proxy/route/route-table.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from './harness.js';
import { metaRds, mppListener, staticXdsCluster, xdsBootstrap } from '../../tools/testing/xds-resources.js';

test('resource status (version_info, last_updated, error_state) and initialized() per type', async () => {
  const cp = new TestControlPlane('istiod');
  await cp.start();
  cp.set(CLUSTER_TYPE, 'c1', [staticXdsCluster('s', [1])]);
  cp.set(LISTENER_TYPE, 'l1', [mppListener('good', { inlineCluster: 's' })]);
  const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
  try {
    assert.equal(await m.dynamic.initialized(LISTENER_TYPE), 'accepted');
    assert.ok(m.server.listenerNames().includes('good'), 'the first LDS response is applied when initialized() settles');
    assert.equal(m.server.listenerConfig('good'), m.dynamic.xds.compiledSnapshot().listeners.find((l) => l.name === 'good')!.compiled, 'the server runs the compiled form the resource type made: no second compile');
    assert.equal(await m.dynamic.initialized(CLUSTER_TYPE), 'accepted');
    assert.ok(m.dynamic.xds.isSubscribed(LISTENER_TYPE) && m.dynamic.xds.isSubscribed(CLUSTER_TYPE));
    assert.equal(m.dynamic.xds.isSubscribed(ENDPOINT_TYPE), false, 'no EDS cluster, no EDS subscription');
    let st = m.dynamic.xds.resourceStatus();
    assert.equal(st.lds.length, 1);
    const good = st.lds[0]!;
    assert.equal(good.name, 'good');
    assert.equal(good.version_info, 'l1');
    assert.equal(good.client_status, 'ACKED');
    assert.ok(good.last_updated !== undefined && !Number.isNaN(Date.parse(good.last_updated)));
    assert.equal(good.error_state, undefined);
    assert.deepEqual(st.cds.map((c) => [c.name, c.version_info]), [['s', 'c1']]);
    // l2: 'good' unchanged, 'bad' names a codec Meltemi lacks: NACKed alone.
    cp.set(LISTENER_TYPE, 'l2', [mppListener('good', { inlineCluster: 's' }), mppListener('bad', { codec: 'aeraki.meta_protocol.codec.nope' })]);
    const lds = (): DiscoveryRequest[] => cp.requestsOf(LISTENER_TYPE).map((r) => r.request as DiscoveryRequest);
    await waitFor('LDS NACK', () => lds().some((r) => r.error_detail != null));
    st = m.dynamic.xds.resourceStatus();
    const byName = new Map(st.lds.map((s) => [s.name, s]));
    const bad = byName.get('bad')!;
    assert.equal(bad.client_status, 'NACKED');
    assert.equal(bad.version_info, '', 'never accepted');
    assert.match(bad.error_state!.details, /unknown codec 'aeraki\.meta_protocol\.codec\.nope'/);
    assert.equal((bad.error_state!.failed_configuration as { name: string }).name, 'bad');
    assert.ok(!Number.isNaN(Date.parse(bad.error_state!.last_update_attempt)));
    assert.equal(byName.get('good')!.version_info, 'l2', 'the valid listener of the push is taken (per resource)');
    assert.equal(byName.get('good')!.last_updated, good.last_updated, 'unchanged content: last_updated stays');
    assert.match(JSON.stringify(m.dynamic.xds.configDump()), /"resource_status":\{"lds":\[/);
    // l3 no longer carries 'bad': its rejection goes with it.
    cp.set(LISTENER_TYPE, 'l3', [mppListener('good', { inlineCluster: 's' })]);
    await waitFor('l3 ACK', () => lds().some((r) => r.version_info === 'l3' && r.error_detail == null));
    assert.deepEqual(m.dynamic.xds.resourceStatus().lds.map((s) => [s.name, s.version_info, s.client_status]), [['good', 'l3', 'ACKED']]);
  } finally {
    await m.close();
    cp.stop();
  }
});

test('a MetaRDS table is built once: the server gets the very table the resource type built', async () => {
  const cp = new TestControlPlane('go-control-plane');
  await cp.start();
  cp.set(CLUSTER_TYPE, 'c1', [staticXdsCluster('s', [1]), staticXdsCluster('t', [2])]);
  cp.set(LISTENER_TYPE, 'l1', [mppListener('dubbo', { rds: 'demo_20880' })]);
  cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'all', cluster: 's' }])]);
  const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port }));
  try {
    await waitFor('first table', () => m.server.listenerNames().includes('dubbo') && m.server.routeStats('dubbo').length === 1);
    const given: RouteTable[] = [];
    const set = m.server.setListenerRoutes.bind(m.server);
    m.server.setListenerRoutes = (name, table) => {
      given.push(table);
      set(name, table);
    };
    cp.set(ROUTE_TYPE, 'r2', [metaRds('demo_20880', [{ name: 'other', cluster: 't' }])]);
    await waitFor('r2 applied', () => m.server.routeStats('dubbo').some((r) => r.name === 'other'));
    const cached = m.dynamic.xds.compiledSnapshot().routes.find((r) => r.name === 'demo_20880')!;
    assert.equal(given.at(-1), cached.table);
  } finally {
    await m.close();
    cp.stop();
  }
});

test("a worker's snapshot compiler compiles a resource once and keeps the last good one", () => {
  const listener = (statPrefix: string, codec = 'aeraki.meta_protocol.codec.dubbo'): ListenerConfig =>
    ({
      name: 'w',
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.meta_protocol_proxy',
              typed_config: {
                '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy',
                stat_prefix: statPrefix,
                application_protocol: 'dubbo',
                codec: { name: codec },
                route_config: { name: 'inline', routes: [{ name: 'all', route: { cluster: 's' } }] },
                meta_protocol_filters: [{ name: 'aeraki.meta_protocol.filters.router' }],
              },
            },
          ],
        },
      ],
    }) as ListenerConfig;
  const snap = (l: ListenerConfig): DynamicSnapshot => ({
    listeners: [{ name: 'w', listener: JSON.parse(JSON.stringify(l)) as ListenerConfig }],
    clusters: [],
    routes: [{ name: 'r', config: { name: 'r', routes: [{ name: 'all', route: { cluster: 's' } }] } }],
  });
  const c = new SnapshotCompiler();
  const first = c.compile(snap(listener('a')));
  const again = c.compile(snap(listener('a')));
  assert.equal(again.listeners[0], first.listeners[0], 'same content (a new copy over IPC): the compiled listener is reused');
  assert.equal(again.routes[0], first.routes[0], 'and the route table');
  const changed = c.compile(snap(listener('b')));
  assert.notEqual(changed.listeners[0], first.listeners[0]);
  assert.equal(changed.listeners[0]!.compiled.metaChains[0]!.statPrefix, 'b');
  const broken = c.compile(snap(listener('c', 'no.such.codec')));
  assert.equal(broken.listeners[0], changed.listeners[0], 'a listener this worker cannot compile keeps the last good one');
});
