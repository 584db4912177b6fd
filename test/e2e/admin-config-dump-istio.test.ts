/**
 * /config_dump of the bootstrap pilot-agent renders from Istio's template
 * (test/fixtures/istio/): what istioctl reads first. Every section decodes strictly with
 * Envoy's admin protos, the Istio-specific parts (HTTP listeners 15090/15021, Zipkin
 * tracing, the overload manager's resource monitor) are printed in Envoy's form, and the
 * fields Envoy's Bootstrap has survive the round trip.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderConfigDump } from '../../proxy/admin/config-dump/render.js';
import { configDumpSource } from '../../proxy/admin/config-dump/source-from-config.js';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { strictDecode } from '../helpers/envoy-admin-json.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/istio/envoy-rev.json', import.meta.url));
const T = 'type.googleapis.com/';
type Json = Record<string, unknown>;

function dump(query: string): Json[] {
  const config = compileBootstrap(JSON.parse(readFileSync(FIXTURE, 'utf8')), 'istio', { allowUnknownStaticFields: true });
  const answer = renderConfigDump(configDumpSource({ config, loadedAt: new Date(), xds: () => undefined }), new URLSearchParams(query));
  assert.equal(answer.status, 200, answer.body);
  const json = JSON.parse(answer.body) as { configs: Json[] };
  strictDecode('envoy.admin.v3.ConfigDump', json);
  return json.configs;
}

test("Istio's rendered bootstrap dumps in Envoy's form and decodes strictly", () => {
  const configs = dump('include_eds');
  const boot = configs.find((c) => c['@type'] === `${T}envoy.admin.v3.BootstrapConfigDump`)!['bootstrap'] as Json;
  const written = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Json;
  // Envoy's Bootstrap fields that pilot-agent wrote are all there (none is Meltemi-only).
  for (const key of Object.keys(written)) assert.ok(key in boot, `bootstrap.${key}`);
  assert.deepEqual((boot['node'] as Json)['id'], (written['node'] as Json)['id']);
  const tracing = ((boot['tracing'] as Json)['http'] as Json)['typed_config'] as Json;
  assert.equal(tracing['@type'], `${T}envoy.config.trace.v3.ZipkinConfig`);

  const listeners = configs.find((c) => c['@type'] === `${T}envoy.admin.v3.ListenersConfigDump`)!;
  const statics = (listeners['static_listeners'] as { listener: { name: string; filter_chains: { filters: { typed_config: Json }[] }[] } }[]).map((l) => l.listener);
  assert.deepEqual(statics.map((l) => l.name), ['0.0.0.0_15090', '0.0.0.0_15021']);
  assert.equal(statics[0]!.filter_chains[0]!.filters[0]!.typed_config['@type'], `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`);

  const clusters = configs.find((c) => c['@type'] === `${T}envoy.admin.v3.ClustersConfigDump`)!;
  const byName = new Map((clusters['static_clusters'] as { cluster: Json }[]).map((c) => [c.cluster['name'], c.cluster]));
  assert.equal(byName.get('prometheus_stats')!['connect_timeout'], '0.250s');
  assert.ok(byName.has('xds-grpc') && byName.has('sds-grpc'));

  const eds = configs.find((c) => c['@type'] === `${T}envoy.admin.v3.EndpointsConfigDump`)!;
  const names = (eds['static_endpoint_configs'] as { endpoint_config: { cluster_name: string } }[]).map((e) => e.endpoint_config.cluster_name);
  assert.ok(names.includes('xds-grpc'), names.join());
});

test('istioctl-style queries on it: one cluster by name, listener names only', () => {
  const one = dump('resource=static_clusters&name_regex=xds-grpc');
  assert.deepEqual(one.map((c) => (c['cluster'] as Json)['name']), ['xds-grpc']);
  const names = dump('resource=static_listeners&mask=listener.name');
  assert.deepEqual(names, [
    { '@type': `${T}envoy.admin.v3.ListenersConfigDump.StaticListener`, listener: { '@type': `${T}envoy.config.listener.v3.Listener`, name: '0.0.0.0_15090' } },
    { '@type': `${T}envoy.admin.v3.ListenersConfigDump.StaticListener`, listener: { '@type': `${T}envoy.config.listener.v3.Listener`, name: '0.0.0.0_15021' } },
  ]);
});
