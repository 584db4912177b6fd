/**
 * The resource types Meltemi hands to its xDS client (proxy/dynamic/resource-types/):
 * decode compiles once, validate sees the subscription, equal is by content (a Struct's
 * map order, as Go encodes it, is no change; a real change is one).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMPTY_METADATA } from '../../codecs/api/index.js';
import type { Metadata } from '../../codecs/api/index.js';
import { discoveryResponse } from '../../xds-client/messages.js';
import { ResourceCache } from '../../xds-client/resource-cache.js';
import type { DecodeResult, XdsResourceType } from '../../xds-client/resource-type.js';
import { clusterType, endpointType, listenerType, routeType } from '../../proxy/dynamic/resource-types/index.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { cla, edsCluster, httpListener, metaRds, mppListener, staticXdsCluster } from '../../tools/testing/xds-resources.js';

/** Through protobuf, as a control plane sends it (Structs and maps keep the order they were written in). */
function wire(res: Resource): Record<string, unknown> {
  const codec = discoveryResponse();
  return codec.deserialize(codec.serialize({ type_url: String(res['@type']), resources: [res] })).resources![0]!;
}

/** Every object's keys in reverse order: what Go's map encoding may do to a Struct. */
function reversedKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(reversedKeys) as T;
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversedKeys(x)])) as T;
}

function ok<T>(d: DecodeResult<T>): T {
  assert.equal(d.kind, 'ok', d.kind === 'invalid' ? d.errors.join('; ') : d.kind);
  return (d as { value: T }).value;
}

test('listener: decoded once into its compiled form; HTTP listeners are ignored, not rejected', () => {
  const l = ok(listenerType.decode(wire(mppListener('dubbo', { rds: 'demo_20880' }))));
  assert.equal(l.name, 'dubbo');
  assert.equal(l.compiled.name, 'dubbo');
  assert.equal(l.compiled.metaChains[0]!.protocol.length > 0, true);
  assert.equal(l.rds?.routeConfigName, 'demo_20880');
  assert.deepEqual(listenerType.validate(l, { name: 'dubbo', subscribed: '*' }), []);
  assert.equal(listenerType.decode(wire(httpListener('virtualInbound'))).kind, 'ignored');
  const bad = listenerType.decode(wire(mppListener('bad', { codec: 'no.such.codec' })));
  assert.equal(bad.kind, 'invalid');
  assert.match((bad as { errors: readonly string[] }).errors.join(), /unknown codec 'no\.such\.codec'/);
});

test('listener equality: TypedStruct key order and encoding are no change; a new stat prefix is one', () => {
  const base = mppListener('dubbo', { rds: 'demo_20880', typedStruct: true });
  const a = ok(listenerType.decode(wire(base)));
  const shuffled = ok(listenerType.decode(wire(reversedKeys(base))));
  assert.notEqual(JSON.stringify(a.listener), JSON.stringify(shuffled.listener), 'the Struct came in another key order');
  assert.ok(listenerType.equal(a, shuffled));
  // The same config as a direct Any (snake_case, not a TypedStruct) says the same.
  const direct = ok(listenerType.decode(wire(mppListener('dubbo', { rds: 'demo_20880' }))));
  assert.ok(listenerType.equal(a, direct));
  const changed = ok(listenerType.decode(wire(mppListener('dubbo', { rds: 'demo_20880', typedStruct: true, statPrefix: 'other' }))));
  assert.equal(listenerType.equal(a, changed), false);
});

test('route config: the table is built by decode; validate refuses a name nobody asked for', () => {
  const r = ok(routeType.decode(wire(metaRds('demo_20880', [{ name: 'v1', match: { method: 'sayHello' }, cluster: 'v1' }, { name: 'all', cluster: 'v2' }]))));
  assert.equal(r.name, 'demo_20880');
  const sayHello: Metadata = { get: (k) => (k === 'method' ? 'sayHello' : undefined), entries: () => [['method', 'sayHello']] };
  assert.equal(r.table.match(sayHello)?.name, 'v1');
  assert.equal(r.table.match(EMPTY_METADATA)?.name, 'all');
  assert.deepEqual(routeType.validate(r, { name: r.name, subscribed: new Set(['demo_20880']) }), []);
  assert.match(routeType.validate(r, { name: r.name, subscribed: new Set(['other']) }).join(), /Unexpected RDS configuration \(expecting other\): demo_20880/);
  assert.equal(routeType.ignoresRemovals, true, 'MetaRDS removals are ignored, as Aeraki does');
});

test('route config equality: map order is no change; a new cluster or matcher is one', () => {
  const res = metaRds('demo_20880', [{ name: 'v1', match: { method: 'sayHello', version: 'v1' }, cluster: 'v1', requestMutation: { a: '1', b: '2' } }]);
  const a = ok(routeType.decode(wire(res)));
  assert.ok(routeType.equal(a, ok(routeType.decode(wire(reversedKeys(res))))));
  assert.equal(routeType.equal(a, ok(routeType.decode(wire(metaRds('demo_20880', [{ name: 'v1', match: { method: 'sayHello', version: 'v1' }, cluster: 'v2', requestMutation: { a: '1', b: '2' } }]))))), false);
  assert.equal(routeType.equal(a, ok(routeType.decode(wire(metaRds('demo_20880', [{ name: 'v1', match: { method: 'sayHi', version: 'v1' }, cluster: 'v1', requestMutation: { a: '1', b: '2' } }]))))), false);
});

test('cluster and endpoints: decode, equality by content, invalid input named', () => {
  const eds = ok(clusterType.decode(wire(edsCluster('outbound|20880||demo'))));
  assert.equal(eds.eds?.serviceName, 'outbound|20880||demo');
  assert.ok(clusterType.equal(eds, ok(clusterType.decode(wire(reversedKeys(edsCluster('outbound|20880||demo')))))));
  const st = ok(clusterType.decode(wire(staticXdsCluster('s', [1000, 1001]))));
  assert.equal(clusterType.equal(st, ok(clusterType.decode(wire(staticXdsCluster('s', [1000, 1002]))))), false);
  assert.equal(clusterType.decode(wire({ '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster', name: '' })).kind, 'invalid');
  const hosts = ok(endpointType.decode(wire(cla('outbound|20880||demo', [2000, 2001]))));
  assert.deepEqual(hosts.map((h) => h.port), [2000, 2001]);
  assert.ok(endpointType.equal(hosts, ok(endpointType.decode(wire(reversedKeys(cla('outbound|20880||demo', [2000, 2001])))))));
  assert.equal(endpointType.equal(hosts, ok(endpointType.decode(wire(cla('outbound|20880||demo', [2001, 2000]))))), false, 'host order is content');
  const bad = endpointType.decode(wire(cla('outbound|20880||demo', [0])));
  assert.equal(bad.kind, 'invalid');
});

test('the client cache keeps the very object of an unchanged resource, so nothing re-applies', () => {
  const cache = new ResourceCache<unknown>();
  const type: XdsResourceType<unknown> = listenerType;
  const base = mppListener('dubbo', { rds: 'demo_20880', typedStruct: true });
  const first = ok(type.decode(wire(base)));
  cache.accept('dubbo', first, 'v1', (a, b) => type.equal(a, b), '2026-01-01T00:00:00.000Z');
  cache.accept('dubbo', ok(type.decode(wire(reversedKeys(base)))), 'v2', (a, b) => type.equal(a, b), '2026-01-01T00:00:01.000Z');
  const entry = cache.accepted.get('dubbo')!;
  assert.equal(entry.value, first, 'same object');
  assert.equal(entry.version, 'v2', 'the version moves');
  assert.equal(entry.lastUpdated, '2026-01-01T00:00:00.000Z', 'last_updated is when the content changed');
  const changed = ok(type.decode(wire(mppListener('dubbo', { rds: 'other_20880', typedStruct: true }))));
  cache.accept('dubbo', changed, 'v3', (a, b) => type.equal(a, b), '2026-01-01T00:00:02.000Z');
  assert.equal(cache.accepted.get('dubbo')!.value, changed);
  assert.equal(cache.accepted.get('dubbo')!.lastUpdated, '2026-01-01T00:00:02.000Z');
});
