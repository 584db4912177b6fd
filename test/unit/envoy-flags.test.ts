/** pilot-agent's Envoy flags (proxy/envoy-flags.ts) and their effect on the loaded bootstrap. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadBootstrapFile } from '../../proxy/config/load-bootstrap.js';
import { bootstrapOverrides, parseEnvoyFlags } from '../../proxy/envoy-flags.js';

test('pilot-agent\'s values are accepted; --drain-time-s becomes the drain timeout', () => {
  const flags = parseEnvoyFlags({
    'drain-time-s': '45',
    'drain-strategy': 'immediate',
    'local-address-ip-version': 'v4',
    'file-flush-interval-msec': '1000',
    'component-log-level': 'misc:error,upstream:debug',
  });
  assert.deepEqual(flags, { drainTimeoutMs: 45_000 });
});

test('values Meltemi cannot honour are refused naming the flag', () => {
  assert.throws(() => parseEnvoyFlags({ 'drain-strategy': 'gradual' }), /--drain-strategy gradual is not supported/);
  assert.throws(() => parseEnvoyFlags({ 'drain-time-s': '-1' }), /--drain-time-s must be a non-negative integer/);
  assert.throws(() => parseEnvoyFlags({ 'drain-time-s': '3000000' }), /--drain-time-s 3000000 is over the longest timer/);
  assert.throws(() => parseEnvoyFlags({ 'local-address-ip-version': 'v5' }), /--local-address-ip-version must be v4 or v6/);
  assert.throws(() => parseEnvoyFlags({ 'file-flush-interval-msec': 'soon' }), /--file-flush-interval-msec/);
  assert.throws(() => parseEnvoyFlags({ 'component-log-level': 'misc:loud' }), /--component-log-level: unknown level 'loud' for misc/);
  assert.throws(() => parseEnvoyFlags({ 'component-log-level': 'misc' }), /'misc' is not <component>:<level>/);
});

test('--config-yaml merges over the file, then --service-cluster/--service-node win', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-flags-'));
  const file = path.join(dir, 'b.yaml');
  writeFileSync(file, JSON.stringify({ node: { id: 'from-file', cluster: 'file-cluster', metadata: { A: '1' } } }));
  const flags = parseEnvoyFlags({ 'service-node': 'from-flag' });
  const config = await loadBootstrapFile(file, undefined, {}, bootstrapOverrides('{"node": {"id": "from-yaml", "metadata": {"B": "2"}}}', flags));
  assert.deepEqual(config.bootstrap.node, { id: 'from-flag', cluster: 'file-cluster', metadata: { A: '1', B: '2' } });
  const only = await loadBootstrapFile(undefined, undefined, {}, bootstrapOverrides('node: {id: n1}', {}));
  assert.equal(only.bootstrap.node?.id, 'n1', 'without -c the --config-yaml is the bootstrap');
  await assert.rejects(loadBootstrapFile(file, undefined, {}, bootstrapOverrides('node: [', {})), /--config-yaml is not valid YAML or JSON/);
});
