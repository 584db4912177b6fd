/** --config-yaml merged over the bootstrap with protobuf MergeFrom rules (proxy/config/merge-bootstrap.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../config/errors.js';
import { mergeBootstrap } from '../../proxy/config/merge-bootstrap.js';

test('repeated fields append, messages merge, scalars overwrite', () => {
  const file = {
    node: { id: 'a', cluster: 'c1' },
    static_resources: { clusters: [{ name: 'one', connect_timeout: '1s' }] },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
  };
  const over = {
    node: { id: 'b' },
    static_resources: { clusters: [{ name: 'two' }] },
    admin: { address: { socket_address: { address: '0.0.0.0' } } },
  };
  assert.deepEqual(mergeBootstrap(file, over), {
    node: { id: 'b', cluster: 'c1' },
    static_resources: { clusters: [{ name: 'one', connect_timeout: '1s' }, { name: 'two' }] },
    admin: { address: { socket_address: { address: '0.0.0.0', port_value: 15000 } } },
  });
});

test('a proto3 default scalar (0, false, "") does not overwrite', () => {
  const merged = mergeBootstrap({ stats_flush_on_admin: true, node: { id: 'a' } }, { stats_flush_on_admin: false, node: { id: '' } });
  assert.deepEqual(merged, { stats_flush_on_admin: true, node: { id: 'a' } });
});

test('setting one member of a oneof clears the others', () => {
  const merged = mergeBootstrap(
    { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } },
    { admin: { address: { pipe: { path: '/tmp/admin.sock' } } } },
  );
  assert.deepEqual(merged, { admin: { address: { pipe: { path: '/tmp/admin.sock' } } } });
});

test('map and Struct fields merge key by key, each value replaced whole', () => {
  const merged = mergeBootstrap(
    { node: { metadata: { LABELS: { app: 'x', v: '1' }, NAMESPACE: 'ns' } } },
    { node: { metadata: { LABELS: { v: '2' } } } },
  );
  assert.deepEqual(merged, { node: { metadata: { LABELS: { v: '2' }, NAMESPACE: 'ns' } } });
});

test('an Any merges when the type is the same and is refused when it differs', () => {
  const t = 'type.googleapis.com/x.A';
  assert.deepEqual(mergeBootstrap({ c: { typed_config: { '@type': t, a: 1 } } }, { c: { typed_config: { '@type': t, b: 2 } } }), {
    c: { typed_config: { '@type': t, a: 1, b: 2 } },
  });
  assert.throws(
    () => mergeBootstrap({ c: { typed_config: { '@type': t } } }, { c: { typed_config: { '@type': 'type.googleapis.com/x.B' } } }),
    (e: unknown) => e instanceof ConfigError && /c\.typed_config: cannot merge an Any of type .*x\.B over one of type .*x\.A/.test(e.message),
  );
});

test('no file: the override is the bootstrap; a non-mapping override is refused', () => {
  assert.deepEqual(mergeBootstrap(undefined, { node: { id: 'n' } }), { node: { id: 'n' } });
  assert.throws(() => mergeBootstrap({}, [1]), /--config-yaml: must be a YAML or JSON mapping/);
});
