/**
 * The bootstrap pilot-agent renders from Istio's template (test/fixtures/istio/) loads as
 * pilot-agent starts the proxy: with --allow-unknown-static-fields, one warning for each
 * field that means nothing to Meltemi, and its two HTTP listeners compiled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { collect, spawnCli } from '../helpers/cli-process.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/istio/envoy-rev.json', import.meta.url));

test('the rendered Istio bootstrap validates with pilot-agent\'s flag, one warning per unused field', async () => {
  const r = await collect(spawnCli(['-c', FIXTURE, '--allow-unknown-static-fields', '--validate'])).done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /valid \(0 listener\(s\), 5 cluster\(s\)\)/);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
  // Each field named once, at its own path: nothing is folded together or repeated.
  assert.equal(new Set(warnings).size, warnings.length, warnings.join('\n'));
  for (const field of ['layered_runtime', 'application_log_config', 'tracing', 'deferred_stat_options', 'stats_config.stats_tags', 'static_resources.clusters[3].max_requests_per_connection', 'bootstrap_extensions[0]']) {
    assert.equal(warnings.filter((w) => w.startsWith(`warning: ${field}`)).length, 1, `one warning for ${field}:\n${warnings.join('\n')}`);
  }
});

test('its listeners are the Prometheus and readiness HTTP listeners, routed as the template says', () => {
  const c = compileBootstrap(JSON.parse(readFileSync(FIXTURE, 'utf8')), 'istio', { allowUnknownStaticFields: true });
  const http = new Map((c.httpListeners ?? []).map((l) => [l.name, l]));
  const stats = http.get('0.0.0.0_15090');
  const agent = http.get('0.0.0.0_15021');
  assert.ok(stats !== undefined && agent !== undefined);
  assert.equal(stats.port, 15090);
  assert.equal(stats.virtualHosts[0]!.routes[0]!.cluster, 'prometheus_stats');
  assert.deepEqual(stats.clusters.get('prometheus_stats')?.hosts, [{ host: '127.0.0.1', port: 15000 }]);
  assert.equal(agent.virtualHosts[0]!.routes[0]!.cluster, 'agent');
  assert.deepEqual(agent.clusters.get('agent')?.hosts, [{ host: '127.0.0.1', port: 15020 }]);
  assert.ok(agent.virtualHosts[0]!.routes[0]!.matches('/healthz/ready'));
  assert.equal(c.admin?.port, 15000);
  assert.equal(c.bootstrap.dynamic_resources?.ads_config?.api_type, 'DELTA_GRPC');
});

test('a field in no proto is accepted only with --allow-unknown-static-fields', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meltemi-istio-boot-'));
  const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  doc['a_field_of_a_newer_envoy'] = true;
  const file = path.join(dir, 'envoy-rev.json');
  writeFileSync(file, JSON.stringify(doc));
  const strict = await collect(spawnCli(['-c', file, '--validate'])).done;
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /a_field_of_a_newer_envoy: unknown field/);
  const lenient = await collect(spawnCli(['-c', file, '--validate', '--allow-unknown-static-fields'])).done;
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(lenient.stderr, /warning: a_field_of_a_newer_envoy: unknown field, ignored \(--allow-unknown-static-fields\)/);
});
