/** How the admin prints resources: Envoy's JSON (proto names, canonical values, redaction). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, packAny, toProtoJson } from '../../proxy/admin/config-dump/proto-json.js';
import { strictDecode } from '../helpers/envoy-admin-json.js';

test('durations print as protobuf JSON prints them', () => {
  assert.equal(duration(1), '1s');
  assert.equal(duration(0), '0s');
  assert.equal(duration(0.25), '0.250s');
  assert.equal(duration(1.5), '1.500s');
  assert.equal(duration(600), '600s');
});

test('bootstrap JSON (camelCase too) and decoded xDS objects print alike, with proto field names', () => {
  const fromYaml = toProtoJson('envoy.config.cluster.v3.Cluster', { name: 'a', connectTimeout: '1.5s', per_connection_buffer_limit_bytes: 32768, type: 'STATIC' });
  const fromXds = toProtoJson('envoy.config.cluster.v3.Cluster', { name: 'a', connect_timeout: { seconds: '1', nanos: 500_000_000 }, per_connection_buffer_limit_bytes: { value: 32768 }, type: 'STATIC' });
  assert.deepEqual(fromYaml, { name: 'a', type: 'STATIC', connect_timeout: '1.500s', per_connection_buffer_limit_bytes: 32768 });
  assert.deepEqual(fromXds, fromYaml);
});

test('an Any inside a resource keeps its @type and proto field names; Struct keys stay as written', () => {
  const l = packAny('envoy.config.listener.v3.Listener', {
    name: 'l',
    filter_chains: [{ filters: [{ name: 'f', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'x', value: { statPrefix: 'keep_me', nested: { aB: 1 } } } }] }],
  });
  strictDecode('google.protobuf.Any', l);
  const tc = (l['filter_chains'] as { filters: { typed_config: Record<string, unknown> }[] }[])[0]!.filters[0]!.typed_config;
  assert.deepEqual(tc, { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'x', value: { statPrefix: 'keep_me', nested: { aB: 1 } } });
});

test('sensitive fields (private keys) are redacted as Envoy redacts them', () => {
  const secret = toProtoJson('envoy.extensions.transport_sockets.tls.v3.Secret', {
    name: 'default',
    tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_bytes: Buffer.from('KEY').toString('base64') }, password: { inline_string: 'pw' } },
  });
  assert.deepEqual(secret, {
    name: 'default',
    tls_certificate: { certificate_chain: { inline_string: 'CERT' }, private_key: { inline_bytes: Buffer.from('[redacted]').toString('base64') }, password: { inline_string: '[redacted]' } },
  });
});

test('a type the schema lacks is shown as given rather than failing the dump', () => {
  assert.deepEqual(packAny('acme.v1.Thing', { a: 1 }), { '@type': 'type.googleapis.com/acme.v1.Thing', a: 1 });
});
