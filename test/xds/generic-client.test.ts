/**
 * xds-client is transport and cache only: it runs with a resource type it has never heard
 * of (here a trivial reading of Clusters written by the test), decodes nothing itself, and
 * imports nothing from Meltemi's runtime.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { XdsBootstrap } from '../../xds-client/bootstrap-types.js';
import type { DiscoveryRequest } from '../../xds-client/messages.js';
import type { XdsResourceType } from '../../xds-client/resource-type.js';
import { CLUSTER_TYPE, SECRET_TYPE } from '../../xds-client/type-urls.js';
import { XdsClient } from '../../xds-client/xds-client.js';
import { TestControlPlane } from '../../tools/testing/xds-control-plane.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { waitFor } from './harness.js';
import { staticXdsCluster } from '../../tools/testing/xds-resources.js';

/** A resource type the client cannot know: the name and port count of a Cluster, 'bad-*' refused. */
interface Tiny {
  readonly name: string;
  readonly ports: number;
  readonly labels: Readonly<Record<string, unknown>>;
}

const decoded: string[] = [];
const tinyType: XdsResourceType<Tiny> = {
  typeUrl: CLUSTER_TYPE,
  shortName: 'tiny',
  acceptance: 'all-or-nothing',
  decode: (res) => {
    const name = String(res['name']);
    decoded.push(name);
    const la = res['load_assignment'] as { endpoints?: { lb_endpoints?: unknown[] }[] } | undefined;
    const md = res['metadata'] as { filter_metadata?: Record<string, Record<string, unknown>> } | undefined;
    return { kind: 'ok', value: { name, ports: la?.endpoints?.[0]?.lb_endpoints?.length ?? 0, labels: md?.filter_metadata?.['tiny'] ?? {} } };
  },
  validate: (v) => (v.name.startsWith('bad-') ? [`tiny ${v.name}: refused by the test`] : []),
  equal: (a, b) => a.name === b.name && a.ports === b.ports && JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort()),
};

function bootstrap(port: number): XdsBootstrap {
  return {
    node: { id: 'tiny-node' },
    static_resources: { clusters: [{ name: 'cp', load_assignment: { endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] } }] },
    dynamic_resources: { ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'cp' } }] } },
  };
}

/** A cluster with a Struct (filter_metadata) whose keys the go-control-plane mode shuffles. */
function labelled(name: string, ports: number[], labels: Record<string, string>): ReturnType<typeof staticXdsCluster> {
  return { ...staticXdsCluster(name, ports), metadata: { filter_metadata: { tiny: labels } } };
}

test('a custom resource type: accepted, unchanged content keeps its object, a refusal is a NACK with error_state', async () => {
  const cp = new TestControlPlane('go-control-plane', { seed: 7 });
  await cp.start();
  let changes = 0;
  const client = new XdsClient(bootstrap(cp.port), { types: [tinyType], onChange: () => changes++, backoffBaseMs: 100, backoffMaxMs: 500 });
  const labels = { a: '1', b: '2', c: '3', d: '4', e: '5' };
  cp.set(CLUSTER_TYPE, 'v1', [labelled('one', [1, 2], labels), labelled('two', [3], labels)]);
  client.subscribeAll(CLUSTER_TYPE, { ads: {} });
  const reqs = (): DiscoveryRequest[] => cp.requestsOf(CLUSTER_TYPE).map((r) => r.request as DiscoveryRequest);
  try {
    assert.equal(await client.initialFetch(CLUSTER_TYPE), 'accepted');
    await waitFor('v1 applied', () => client.resources(tinyType).size === 2 && changes > 0);
    const one = client.resources(tinyType).get('one')!;
    assert.deepEqual(one.value, { name: 'one', ports: 2, labels });
    assert.equal(one.version, 'v1');
    assert.deepEqual(decoded.slice(-2).sort(), ['one', 'two'], 'the client called the type to decode');
    // v2: 'two' re-sent as it was (its Struct in another key order: go-control-plane mode
    // shuffles) is not even decoded again; 'one' changed a field the type does not read, so
    // it is decoded, and `equal` keeps the cached object. Either way: same object, new version.
    const decodedBefore = decoded.length;
    cp.set(CLUSTER_TYPE, 'v2', [{ ...labelled('one', [1, 2], { e: '5', d: '4', c: '3', b: '2', a: '1' }), connect_timeout: { seconds: 2 } }, labelled('two', [3], labels)]);
    await waitFor('v2 ACK', () => reqs().some((r) => r.version_info === 'v2' && r.error_detail == null));
    assert.deepEqual(decoded.slice(decodedBefore), ['one'], 'only the resource whose content moved was decoded again');
    assert.equal(client.resources(tinyType).get('two')!.version, 'v2');
    assert.equal(client.resources(tinyType).get('one')!.value, one.value, 'unchanged content keeps the cached object');
    assert.equal(client.resources(tinyType).get('one')!.version, 'v2');
    assert.equal(client.resources(tinyType).get('one')!.lastUpdated, one.lastUpdated);
    // A refused resource NACKs the response (all or nothing), with the type's own words.
    cp.set(CLUSTER_TYPE, 'v3', [labelled('one', [1, 2, 3], labels), labelled('bad-x', [4], labels)]);
    await waitFor('v3 NACK', () => reqs().some((r) => r.error_detail != null));
    const nack = reqs().find((r) => r.error_detail != null)!;
    assert.equal(nack.version_info, 'v2', 'the NACK carries the last accepted version');
    assert.match(nack.error_detail!.message, /tiny bad-x: refused by the test/);
    assert.equal(client.resources(tinyType).get('one')!.value.ports, 2, 'nothing of a rejected response applies');
    const rejected = client.rejected(CLUSTER_TYPE).get('bad-x');
    assert.ok(rejected !== undefined);
    assert.equal(rejected.version, 'v3');
    assert.match(rejected.details, /refused by the test/);
    // go-control-plane answers a NACK with the same version again: one or more rejections.
    assert.ok(client.statsLines().some((l) => /^xds\.ads\.tiny\.update_rejected: [1-9]/.test(l)), client.statsLines().join('\n'));
    // Deletion by absence (SotW wildcard).
    cp.set(CLUSTER_TYPE, 'v4', [labelled('two', [3], labels)]);
    await waitFor('v4 applied', () => client.resources(tinyType).size === 1 && client.resources(tinyType).has('two'));
  } finally {
    client.close();
    cp.stop();
  }
});

test('a Secret type (SDS) by name over ADS: subscriptions follow setSubscriptions, unsubscribed names leave the cache', async () => {
  interface Pem {
    readonly name: string;
    readonly certificate: string;
  }
  const secretType: XdsResourceType<Pem> = {
    typeUrl: SECRET_TYPE,
    shortName: 'sds',
    acceptance: 'all-or-nothing',
    decode: (res) => {
      const chain = (res['tls_certificate'] as { certificate_chain?: { inline_string?: string } } | undefined)?.certificate_chain?.inline_string;
      return chain === undefined ? { kind: 'invalid', errors: [`secret ${String(res['name'])}: no tls_certificate.certificate_chain`] } : { kind: 'ok', value: { name: String(res['name']), certificate: chain } };
    },
    validate: () => [],
    equal: (a, b) => a.name === b.name && a.certificate === b.certificate,
  };
  const secret = (name: string, pem: string): Resource => ({ '@type': SECRET_TYPE, name, tls_certificate: { certificate_chain: { inline_string: pem } } });
  const cp = new TestControlPlane('istiod');
  await cp.start();
  cp.set(SECRET_TYPE, 's1', [secret('default', 'PEM-A'), secret('ROOTCA', 'PEM-ROOT')]);
  const client = new XdsClient(bootstrap(cp.port), { types: [secretType], onChange: () => undefined });
  try {
    client.setSubscriptions(SECRET_TYPE, [{ name: 'default', source: { ads: {} } }]);
    assert.ok(client.isSubscribed(SECRET_TYPE));
    assert.equal(await client.initialFetch(SECRET_TYPE), 'accepted');
    await waitFor('default secret', () => client.resources(secretType).get('default')?.value.certificate === 'PEM-A');
    const asked = (): string[] => [...((cp.requestsOf(SECRET_TYPE).at(-1)!.request as DiscoveryRequest).resource_names ?? [])].sort();
    assert.deepEqual(asked(), ['default']);
    client.setSubscriptions(SECRET_TYPE, [{ name: 'ROOTCA', source: { ads: {} } }]);
    await waitFor('ROOTCA secret', () => client.resources(secretType).get('ROOTCA')?.value.certificate === 'PEM-ROOT');
    assert.deepEqual(asked(), ['ROOTCA']);
    assert.equal(client.resources(secretType).has('default'), false, 'an unsubscribed name leaves the cache');
    client.setSubscriptions(SECRET_TYPE, []);
    assert.equal(client.isSubscribed(SECRET_TYPE), false);
  } finally {
    client.close();
    cp.stop();
  }
});

test('initial fetch: the timeout settles it when the server never answers', async () => {
  const cp = new TestControlPlane('istiod');
  await cp.start();
  const client = new XdsClient(bootstrap(cp.port), { types: [tinyType], onChange: () => undefined });
  try {
    // Nothing is set for the type: the server keeps the request open.
    client.subscribeAll(CLUSTER_TYPE, { ads: {}, initial_fetch_timeout: 150 });
    const started = Date.now();
    assert.equal(await client.initialFetch(CLUSTER_TYPE), 'timeout');
    assert.ok(Date.now() - started >= 100);
  } finally {
    client.close();
    cp.stop();
  }
});

test('xds-client imports nothing of the runtime (only config/ and codecs/api may be used)', () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  // Run from dist/test/xds: the sources are three levels up.
  const dir = [`${here}../../xds-client`, `${here}../../../xds-client`].find((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    } catch {
      return false;
    }
  });
  assert.ok(dir !== undefined, 'xds-client sources found');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  assert.ok(files.length > 10);
  const offending: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(`${dir}/${f}`, 'utf8').matchAll(/from '(\.\.\/[^']+)'/g)) {
      const target = m[1]!;
      if (!target.startsWith('../config/') && !target.startsWith('../codecs/api/')) offending.push(`${f}: ${target}`);
    }
  }
  assert.deepEqual(offending, []);
});
