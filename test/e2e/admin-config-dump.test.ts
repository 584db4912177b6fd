/**
 * /config_dump of a proxy on a static bootstrap is Envoy's ConfigDump: decoded strictly
 * with Envoy's admin protos, sections in Envoy's order, durations and timestamps as
 * protobuf JSON prints them, and Envoy's query parameters with Envoy's errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { fetchStrict, strictDecode } from '../helpers/envoy-admin-json.js';

const T = 'type.googleapis.com/';
type Json = Record<string, unknown>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3,9})?Z$/;

describe('/config_dump on a static bootstrap', () => {
  let m: RunningMeltemi;
  let base: string;
  before(async () => {
    const boot = bootstrapOf(
      [metaProtocolListener({ name: 'main', routes: [{ name: 'all', cluster: 'backend' }] }), metaProtocolListener({ name: 'side', routes: [{ name: 'all', cluster: 'other' }] })],
      [staticCluster('backend', [1]), staticCluster('other', [2], { connect_timeout: '0.250s' })],
      undefined,
      { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    ) as Json;
    boot['node'] = { id: 'sidecar~127.0.0.1~demo-0.default~default.svc.cluster.local', cluster: 'demo.default', metadata: { NAMESPACE: 'default' } };
    m = await startMeltemi(boot);
    base = `http://127.0.0.1:${m.server.adminPort}`;
  });
  after(async () => {
    await m.close();
  });

  test('the strict decoder refuses what Envoy would refuse (so the tests below can fail)', () => {
    const dump = { configs: [{ '@type': `${T}envoy.admin.v3.ClustersConfigDump`, static_clusters: [{ cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'a', connect_timeout: '1s' } }] }] };
    strictDecode('envoy.admin.v3.ConfigDump', dump);
    const cluster = (dump.configs[0]!.static_clusters[0]!.cluster as Json);
    assert.throws(() => strictDecode('envoy.admin.v3.ConfigDump', { configs: [{ ...dump.configs[0], extra: 1 }] }), /unknown field/);
    assert.throws(() => strictDecode('envoy.admin.v3.ConfigDump', { configs: [{ ...dump.configs[0], static_clusters: [{ cluster: { ...cluster, connect_timeout: 1000 } }] }] }), /duration/);
    assert.throws(() => strictDecode('envoy.admin.v3.ConfigDump', { configs: [{ '@type': `${T}meltemi.admin.v1.XdsConfigDump` }] }));
    assert.throws(() => strictDecode('envoy.admin.v3.ConfigDump', { configs: [{ ...dump.configs[0], version_info: 3 }] }), /string/);
  });

  test('every section decodes, in Envoy order, with the static resources', async () => {
    const dump = await fetchStrict(`${base}/config_dump`, 'envoy.admin.v3.ConfigDump');
    const configs = dump['configs'] as Json[];
    assert.deepEqual(
      configs.map((c) => c['@type']),
      [
        `${T}envoy.admin.v3.BootstrapConfigDump`,
        `${T}envoy.admin.v3.ClustersConfigDump`,
        `${T}envoy.admin.v3.ListenersConfigDump`,
        `${T}aeraki.meta_protocol_proxy.admin.v1alpha.RoutesConfigDump`,
        `${T}envoy.admin.v3.RoutesConfigDump`,
        `${T}envoy.admin.v3.SecretsConfigDump`,
      ],
    );
    const [boot, clusters, listeners, metaRoutes] = configs as [Json, Json, Json, Json];
    assert.match(boot['last_updated'] as string, RFC3339);
    const bootstrap = boot['bootstrap'] as { node: Json; static_resources: { clusters: Json[] } };
    assert.equal(bootstrap.node['id'], 'sidecar~127.0.0.1~demo-0.default~default.svc.cluster.local');
    // Durations print as protobuf JSON prints them: "0.250s", not 250 (milliseconds).
    assert.equal(bootstrap.static_resources.clusters.find((c) => c['name'] === 'other')!['connect_timeout'], '0.250s');
    const statics = clusters['static_clusters'] as { cluster: Json; last_updated: string }[];
    assert.deepEqual(statics.map((c) => [c.cluster['@type'], c.cluster['name']]), [
      [`${T}envoy.config.cluster.v3.Cluster`, 'backend'],
      [`${T}envoy.config.cluster.v3.Cluster`, 'other'],
    ]);
    assert.equal(statics[1]!.cluster['connect_timeout'], '0.250s');
    assert.match(statics[0]!.last_updated, RFC3339);
    const sl = listeners['static_listeners'] as { listener: Json }[];
    assert.deepEqual(sl.map((l) => l.listener['name']), ['main', 'side']);
    assert.equal(listeners['dynamic_listeners'], undefined);
    const routes = metaRoutes['static_route_configs'] as { route_config: Json }[];
    assert.equal(routes.length, 2);
    assert.equal(routes[0]!.route_config['@type'], `${T}aeraki.meta_protocol_proxy.config.route.v1alpha.RouteConfiguration`);
  });

  test('?include_eds adds the endpoints of every cluster', async () => {
    const without = (await fetchStrict(`${base}/config_dump`, 'envoy.admin.v3.ConfigDump'))['configs'] as Json[];
    assert.ok(!without.some((c) => c['@type'] === `${T}envoy.admin.v3.EndpointsConfigDump`));
    const dump = (await fetchStrict(`${base}/config_dump?include_eds`, 'envoy.admin.v3.ConfigDump'))['configs'] as Json[];
    const eds = dump.find((c) => c['@type'] === `${T}envoy.admin.v3.EndpointsConfigDump`)!;
    const cfgs = eds['static_endpoint_configs'] as { endpoint_config: { cluster_name: string; endpoints: unknown[] } }[];
    assert.deepEqual(cfgs.map((c) => c.endpoint_config.cluster_name), ['backend', 'other']);
  });

  test('?resource= lists the items of a repeated field, each as its own message', async () => {
    const dump = await fetchStrict(`${base}/config_dump?resource=static_clusters`, 'envoy.admin.v3.ConfigDump');
    const configs = dump['configs'] as Json[];
    assert.equal(configs.length, 2);
    for (const c of configs) assert.equal(c['@type'], `${T}envoy.admin.v3.ClustersConfigDump.StaticCluster`);
    const listeners = await fetchStrict(`${base}/config_dump?resource=static_listeners`, 'envoy.admin.v3.ConfigDump');
    assert.deepEqual((listeners['configs'] as { listener: Json }[]).map((c) => c.listener['name']), ['main', 'side']);
  });

  test('?resource= with ?mask= reaches into the resource', async () => {
    const dump = await fetchStrict(`${base}/config_dump?resource=static_clusters&mask=cluster.name`, 'envoy.admin.v3.ConfigDump');
    assert.deepEqual(dump['configs'], [
      { '@type': `${T}envoy.admin.v3.ClustersConfigDump.StaticCluster`, cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'backend' } },
      { '@type': `${T}envoy.admin.v3.ClustersConfigDump.StaticCluster`, cluster: { '@type': `${T}envoy.config.cluster.v3.Cluster`, name: 'other' } },
    ]);
  });

  test('?mask= alone trims every section it fits and leaves out the others', async () => {
    const dump = await fetchStrict(`${base}/config_dump?mask=bootstrap.node`, 'envoy.admin.v3.ConfigDump');
    const configs = dump['configs'] as Json[];
    assert.equal(configs.length, 1);
    assert.deepEqual(Object.keys(configs[0]!), ['@type', 'bootstrap']);
    assert.deepEqual(Object.keys(configs[0]!['bootstrap'] as Json), ['node']);
    // version_info is a field of the clusters and of the listeners sections, and of no other.
    const two = await fetchStrict(`${base}/config_dump?mask=version_info`, 'envoy.admin.v3.ConfigDump');
    assert.deepEqual((two['configs'] as Json[]).map((c) => c['@type']), [`${T}envoy.admin.v3.ClustersConfigDump`, `${T}envoy.admin.v3.ListenersConfigDump`]);
    // A mask must fit a section whole: these two paths fit no one section.
    const none = await fetch(`${base}/config_dump?mask=static_clusters,static_listeners`);
    assert.equal(none.status, 400);
  });

  test('?name_regex= keeps the resources whose whole name matches', async () => {
    const dump = await fetchStrict(`${base}/config_dump?name_regex=ma.*`, 'envoy.admin.v3.ConfigDump');
    const configs = dump['configs'] as Json[];
    const listeners = configs.find((c) => c['@type'] === `${T}envoy.admin.v3.ListenersConfigDump`)!;
    assert.deepEqual((listeners['static_listeners'] as { listener: Json }[]).map((l) => l.listener['name']), ['main']);
    const clusters = configs.find((c) => c['@type'] === `${T}envoy.admin.v3.ClustersConfigDump`)!;
    assert.equal(clusters['static_clusters'], undefined, 'no cluster name matches ma.* in full');
    const partial = await fetchStrict(`${base}/config_dump?resource=static_listeners&name_regex=ai`, 'envoy.admin.v3.ConfigDump');
    assert.deepEqual(partial['configs'], [], 'a regex matches the whole name, not a part');
  });

  test("Envoy's errors: not repeated, not found, bad mask, bad regex", async () => {
    const get = async (q: string): Promise<[number, string]> => {
      const r = await fetch(`${base}/config_dump?${q}`);
      return [r.status, await r.text()];
    };
    assert.deepEqual(await get('resource=version_info'), [400, 'version_info is not a repeated field. Use ?mask=version_info to get only this field\n']);
    assert.deepEqual(await get('resource=no_such_thing'), [404, 'no_such_thing not found in config dump\n']);
    assert.deepEqual(await get('mask=no_such_field'), [400, 'FieldMask no_such_field could not be successfully applied to any configs.\n']);
    const [code, body] = await get('resource=static_clusters&mask=cluster.no_such_field');
    assert.equal(code, 400);
    assert.match(body, /^FieldMask paths: "cluster\.no_such_field"\n could not be successfully used\.\n$/);
    const [rc, rb] = await get(`name_regex=${encodeURIComponent('(')}`);
    assert.equal(rc, 400);
    assert.match(rb, /^INVALID_ARGUMENT: Error while parsing name_regex from \(: /);
  });
});
