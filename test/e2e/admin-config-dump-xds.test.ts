/**
 * /config_dump of a proxy configured over xDS (the test control plane, istiod's flavour):
 * dynamic listeners, clusters, endpoints and MetaRDS route tables with the versions they
 * came with; a rejected listener update in Envoy's error_state while the last good version
 * stays active. Every answer is decoded strictly with Envoy's admin protos.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import { CLUSTER_TYPE, ENDPOINT_TYPE, LISTENER_TYPE, ROUTE_TYPE } from '../../xds-client/type-urls.js';
import { fetchStrict } from '../helpers/envoy-admin-json.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { startXdsMeltemi, waitFor } from '../xds/harness.js';
import type { XdsMeltemi } from '../xds/harness.js';
import { cla, edsCluster, metaRds, mppListener, xdsBootstrap } from '../../tools/testing/xds-resources.js';

const T = 'type.googleapis.com/';
const DUMP = 'envoy.admin.v3.ConfigDump';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3,9})?Z$/;
type Json = Record<string, unknown>;

/** `listener` with an extra filter before its router. */
function withFilter(listener: Resource, name: string): Resource {
  const chain = (listener['filter_chains'] as { filters: { typed_config: Json }[] }[])[0]!;
  const proxy = chain.filters[0]!.typed_config;
  proxy['meta_protocol_filters'] = [{ name }, ...(proxy['meta_protocol_filters'] as object[])];
  return listener;
}

const section = (dump: Json, type: string): Json => {
  const found = (dump['configs'] as Json[]).find((c) => c['@type'] === `${T}${type}`);
  assert.ok(found, `section ${type}`);
  return found;
};

describe('/config_dump over xDS', () => {
  let cp: TestControlPlane;
  let m: XdsMeltemi;
  let base: string;
  before(async () => {
    cp = new TestControlPlane('istiod');
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [20880])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('out', { rds: 'demo_20880' }), mppListener('in', { inlineCluster: 'v1', typedStruct: true })]);
    cp.set(ROUTE_TYPE, 'r1', [metaRds('demo_20880', [{ name: 'by-method', match: { method: 'sayHello' }, cluster: 'v1' }])]);
    m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port, admin: true }));
    base = `http://127.0.0.1:${m.server.adminPort}`;
    await waitFor('first config', () => m.server.listenerNames().length === 2 && m.dynamic.xds.snapshot().routes.length === 1 && m.dynamic.xds.snapshot().clusters.every((c) => c.hosts.length === 1));
  });
  after(async () => {
    await m.close();
    cp.stop();
  });

  test('dynamic resources carry their version and time', async () => {
    const dump = await fetchStrict(`${base}/config_dump?include_eds`, DUMP);
    const listeners = section(dump, 'envoy.admin.v3.ListenersConfigDump');
    assert.equal(listeners['version_info'], 'l1');
    const dl = listeners['dynamic_listeners'] as { name: string; active_state: { version_info: string; listener: Json; last_updated: string } }[];
    assert.deepEqual(dl.map((l) => [l.name, l.active_state.version_info, l.active_state.listener['@type']]), [
      ['in', 'l1', `${T}envoy.config.listener.v3.Listener`],
      ['out', 'l1', `${T}envoy.config.listener.v3.Listener`],
    ]);
    assert.match(dl[0]!.active_state.last_updated, RFC3339);

    const clusters = section(dump, 'envoy.admin.v3.ClustersConfigDump');
    assert.equal(clusters['version_info'], 'c1');
    assert.deepEqual((clusters['static_clusters'] as { cluster: Json }[]).map((c) => c.cluster['name']), ['xds-grpc', 'aeraki-xds']);
    const active = clusters['dynamic_active_clusters'] as { version_info: string; cluster: Json }[];
    assert.deepEqual(active.map((c) => [c.version_info, c.cluster['name']]), [['c1', 'v1']]);
    // The control plane sent {seconds: 1}: it prints as protobuf JSON prints a Duration.
    assert.equal(active[0]!.cluster['connect_timeout'], '1s');

    const eds = section(dump, 'envoy.admin.v3.EndpointsConfigDump');
    const de = eds['dynamic_endpoint_configs'] as { version_info: string; endpoint_config: { cluster_name: string } }[];
    assert.deepEqual(de.map((e) => [e.version_info, e.endpoint_config.cluster_name]), [['e1', 'v1']]);

    // MetaRDS tables are shown as Aeraki's meta route tables they became, with the RDS version.
    const routes = section(dump, 'aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump');
    const dr = routes['dynamic_route_configs'] as { version_info: string; route_config: { '@type': string; name: string; routes: { name: string }[] } }[];
    assert.deepEqual(dr.map((r) => [r.version_info, r.route_config['@type'], r.route_config.name, r.route_config.routes.map((x) => x.name)]), [
      ['r1', `${T}aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration`, 'demo_20880', ['by-method']],
    ]);
    // The LDS listener `in` has its table inline: static, as meta-protocol-proxy shows it.
    const inline = routes['static_route_configs'] as { route_config: { '@type': string; name: string } }[];
    assert.deepEqual(inline.map((r) => [r.route_config['@type'], r.route_config.name]), [[`${T}aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration`, 'in-inline']]);
  });

  test('?resource=dynamic_active_clusters and ?resource=dynamic_route_configs', async () => {
    const c = await fetchStrict(`${base}/config_dump?resource=dynamic_active_clusters`, DUMP);
    assert.deepEqual((c['configs'] as Json[]).map((x) => x['@type']), [`${T}envoy.admin.v3.ClustersConfigDump.DynamicCluster`]);
    const r = await fetchStrict(`${base}/config_dump?resource=dynamic_route_configs`, DUMP);
    // The first section with that field (in Envoy's key order) is meta_protocol_routes.
    assert.deepEqual((r['configs'] as Json[]).map((x) => x['@type']), [`${T}aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump.DynamicRouteConfig`]);
    const masked = await fetchStrict(`${base}/config_dump?resource=dynamic_listeners&mask=name,active_state.version_info&name_regex=o.t`, DUMP);
    assert.deepEqual(masked['configs'], [{ '@type': `${T}envoy.admin.v3.ListenersConfigDump.DynamicListener`, name: 'out', active_state: { version_info: 'l1' } }]);
  });

  test('a rejected listener update shows in error_state; the last good version stays active', async () => {
    cp.set(LISTENER_TYPE, 'l2', [withFilter(mppListener('out', { rds: 'demo_20880' }), 'acme.filters.auth'), mppListener('in', { inlineCluster: 'v1', typedStruct: true })]);
    await waitFor('LDS NACK', () => cp.requestsOf(LISTENER_TYPE).some((r) => (r.request as DiscoveryRequest).error_detail != null));
    const dump = await fetchStrict(`${base}/config_dump`, DUMP);
    const listeners = section(dump, 'envoy.admin.v3.ListenersConfigDump');
    assert.equal(listeners['version_info'], 'l1', 'the type version stays at the last update applied whole');
    const out = (listeners['dynamic_listeners'] as Json[]).find((l) => l['name'] === 'out') as {
      active_state: { version_info: string };
      error_state: { failed_configuration: Json; last_update_attempt: string; details: string; version_info: string };
      client_status: string;
    };
    assert.equal(out.active_state.version_info, 'l1');
    assert.equal(out.error_state.version_info, 'l2');
    assert.match(out.error_state.details, /unknown filter acme\.filters\.auth/);
    assert.match(out.error_state.last_update_attempt, RFC3339);
    assert.equal(out.error_state.failed_configuration['@type'], `${T}envoy.config.listener.v3.Listener`);
    assert.equal(out.error_state.failed_configuration['name'], 'out');
    assert.equal(out.client_status, 'NACKED');
    const inl = (listeners['dynamic_listeners'] as Json[]).find((l) => l['name'] === 'in') as { active_state: { version_info: string }; error_state?: unknown };
    assert.equal(inl.active_state.version_info, 'l2', 'the good listener of the same push applied');
    assert.equal(inl.error_state, undefined);

    // A later good version clears the error.
    cp.set(LISTENER_TYPE, 'l3', [mppListener('out', { rds: 'demo_20880' }), mppListener('in', { inlineCluster: 'v1', typedStruct: true })]);
    await waitFor('l3 applied', () => m.dynamic.xds.dumpRecords(LISTENER_TYPE).version === 'l3');
    const after3 = section(await fetchStrict(`${base}/config_dump`, DUMP), 'envoy.admin.v3.ListenersConfigDump');
    const out3 = (after3['dynamic_listeners'] as Json[]).find((l) => l['name'] === 'out') as { active_state: { version_info: string }; error_state?: unknown };
    assert.equal(out3.active_state.version_info, 'l3');
    assert.equal(out3.error_state, undefined);
  });

  test('a rejected cluster update shows in the cluster entry; the accepted version stays', async () => {
    const tooLong = { ...edsCluster('v1'), connect_timeout: { seconds: 9_999_999 } };
    cp.set(CLUSTER_TYPE, 'c2', [tooLong]);
    await waitFor('CDS NACK', () => cp.requestsOf(CLUSTER_TYPE).some((r) => (r.request as DiscoveryRequest).error_detail != null));
    const clusters = section(await fetchStrict(`${base}/config_dump`, DUMP), 'envoy.admin.v3.ClustersConfigDump');
    assert.equal(clusters['version_info'], 'c1');
    const [v1] = clusters['dynamic_active_clusters'] as { version_info: string; cluster: Json; error_state: { version_info: string; details: string; failed_configuration: Json } }[];
    assert.equal(v1!.version_info, 'c1');
    assert.equal(v1!.cluster['connect_timeout'], '1s');
    assert.equal(v1!.error_state.version_info, 'c2');
    assert.match(v1!.error_state.details, /connect_timeout/);
    assert.equal(v1!.error_state.failed_configuration['connect_timeout'], '9999999s');
  });
});

describe('/config_dump over delta xDS', () => {
  test('each resource carries its own version; the section carries the system version', async () => {
    const cp = new TestControlPlane('go-control-plane');
    await cp.start();
    cp.set(CLUSTER_TYPE, 'c1', [edsCluster('v1')]);
    cp.set(ENDPOINT_TYPE, 'e1', [cla('v1', [20880])]);
    cp.set(LISTENER_TYPE, 'l1', [mppListener('a', { inlineCluster: 'v1' }), mppListener('b', { inlineCluster: 'v1' })]);
    const m = await startXdsMeltemi(xdsBootstrap({ adsPort: cp.port, admin: true, delta: true }));
    try {
      const url = `http://127.0.0.1:${m.server.adminPort}/config_dump?resource=dynamic_listeners&mask=name,active_state.version_info`;
      const versions = async (): Promise<Record<string, string>> =>
        Object.fromEntries(((await fetchStrict(url, DUMP))['configs'] as { name: string; active_state: { version_info: string } }[]).map((l) => [l.name, l.active_state.version_info]));
      await waitFor('both listeners', () => m.server.listenerNames().length === 2);
      const first = await versions();
      assert.ok(first['a'] !== undefined && first['a'] !== '' && first['b'] !== undefined, JSON.stringify(first));
      cp.set(LISTENER_TYPE, 'l2', [mppListener('a', { inlineCluster: 'v1' }), mppListener('b', { inlineCluster: 'v1', statPrefix: 'changed' })]);
      await waitFor('b updated', () => m.dynamic.xds.dumpRecords(LISTENER_TYPE).accepted.find((a) => a.name === 'b')?.version !== first['b']);
      const second = await versions();
      assert.equal(second['a'], first['a'], 'a did not change: same version');
      assert.notEqual(second['b'], first['b']);
      const listeners = section(await fetchStrict(`http://127.0.0.1:${m.server.adminPort}/config_dump`, DUMP), 'envoy.admin.v3.ListenersConfigDump');
      assert.equal(listeners['version_info'], 'l2');
    } finally {
      await m.close();
      cp.stop();
    }
  });
});
