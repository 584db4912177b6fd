/**
 * Config errors tell a typo from a valid Envoy field Meltemi lacks (issue 14), Envoy's
 * --allow-unknown-static-fields, durations that would overflow a Node timer (issue 13
 * defect 9), and docs/configuration.md matching what the generator produces.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, compileBootstrap } from '../../proxy/index.js';
import { RouteTable } from '../../proxy/route/route-table.js';
import { renderConfigDocs } from '../../scripts/config-docs/render-config-docs.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function problems(doc: unknown, opts: { allowUnknownStaticFields?: boolean } = {}): string[] {
  try {
    compileBootstrap(doc, 'bootstrap', opts);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  return [];
}

type Doc = {
  static_resources: { clusters: Record<string, unknown>[]; listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[] };
} & Record<string, unknown>;

const good = (): Doc =>
  bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', match: { method: 'x' }, cluster: 'c' }] })], [staticCluster('c', [20880])]) as Doc;
const typedConfig = (d: Doc): Record<string, unknown> => d.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
const TC = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';

describe('unknown field or not supported by Meltemi', () => {
  test('a valid Envoy cluster field Meltemi lacks says "not supported by Meltemi"', () => {
    const d = good();
    d.static_resources.clusters[0]!['lrs_server'] = {};
    const p = problems(d);
    assert.equal(p.length, 1, p.join('\n'));
    assert.match(p[0]!, /^static_resources\.clusters\[0\]\.lrs_server: not supported by Meltemi \(a field of envoy\.config\.cluster\.v3\.Cluster/);
  });

  test('a typo says "unknown field", with the likely intended name', () => {
    const d = good();
    d.static_resources.clusters[0]!['lb_polcy'] = 'RANDOM';
    assert.deepEqual(problems(d), ['static_resources.clusters[0].lb_polcy: unknown field (did you mean lb_policy?)']);
  });

  test('a top-level Envoy field (overload_manager) and an Aeraki field are told apart from typos', () => {
    const d = good();
    d['watchdog'] = {};
    d['watchdgo'] = {};
    const p = problems(d);
    assert.ok(p.includes('watchdgo: unknown field'), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('watchdog: not supported by Meltemi')), p.join('\n'));
  });

  test('camelCase spellings of an unsupported Envoy field are recognised too', () => {
    const d = good();
    d.static_resources.clusters[0]!['lrsServer'] = {};
    assert.match(problems(d)[0] ?? '', /lrs_server: not supported by Meltemi/);
  });
});

describe('--allow-unknown-static-fields', () => {
  test('unknown fields of the static bootstrap are accepted with one warning each', () => {
    const d = good();
    d.static_resources.clusters[0]!['lb_polcy'] = 'RANDOM';
    d['future_envoy_field'] = 1;
    typedConfig(d)['some_new_aeraki_field'] = 'x';
    const c = compileBootstrap(d, 'bootstrap', { allowUnknownStaticFields: true });
    const unknown = c.warnings.filter((w) => w.includes('unknown field, ignored'));
    assert.deepEqual(unknown.sort(), [
      'future_envoy_field: unknown field, ignored (--allow-unknown-static-fields)',
      'static_resources.clusters[0].lb_polcy: unknown field, ignored (--allow-unknown-static-fields)',
      `${TC}.some_new_aeraki_field: unknown field, ignored (--allow-unknown-static-fields)`,
    ]);
  });

  test('fields Meltemi does not support are still refused', () => {
    const d = good();
    d.static_resources.clusters[0]!['lrs_server'] = {};
    assert.match(problems(d, { allowUnknownStaticFields: true })[0] ?? '', /not supported by Meltemi/);
  });

  test('without the flag, the same unknown field is refused', () => {
    const d = good();
    d['future_envoy_field'] = 1;
    assert.deepEqual(problems(d), ['future_envoy_field: unknown field']);
  });
});

describe('durations end in Node timers', () => {
  test('a timeout above 2^31-1 ms is refused with its field path', () => {
    const d = good();
    typedConfig(d)['request_timeout'] = '2147484s';
    assert.deepEqual(problems(d), [`${TC}.request_timeout: 2147484s is longer than the longest timer Node.js supports (2147483647 ms, about 24.8 days)`]);
    const d2 = good();
    d2.static_resources.clusters[0]!['connect_timeout'] = { seconds: 3_000_000 };
    assert.match(problems(d2)[0] ?? '', /^static_resources\.clusters\[0\]\.connect_timeout: 3000000s is longer/);
  });

  test('the largest timer Node takes is accepted', () => {
    const d = good();
    typedConfig(d)['request_timeout'] = '2147483.647s';
    assert.deepEqual(problems(d), []);
  });

  test('meltemi.drain_timeout and route timeouts are checked too', () => {
    const d = good();
    d['meltemi'] = { drain_timeout: '9999999999s' };
    assert.match(problems(d)[0] ?? '', /^meltemi\.drain_timeout: .* longer than the longest timer/);
  });

  test('connect_timeout must be above 0 (Envoy: gt 0); request_timeout 0s is allowed (it disables the timeout)', () => {
    const d = good();
    d.static_resources.clusters[0]!['connect_timeout'] = '0s';
    typedConfig(d)['request_timeout'] = '0s';
    assert.deepEqual(problems(d), ['static_resources.clusters[0].connect_timeout: must be greater than 0']);
  });
});

describe('0s disables a timeout, as in Envoy', () => {
  test('per_try_timeout: 0s means no per-try timeout (a 0 ms deadline failed every try at once)', () => {
    const table = new RouteTable({ routes: [{ route: { cluster: 'c', retry_policy: { retry_on: 'reset', per_try_timeout: 0 } } }] });
    assert.equal(table.routes[0]!.retryPolicy?.perTryTimeoutMs, undefined);
    const with50 = new RouteTable({ routes: [{ route: { cluster: 'c', retry_policy: { retry_on: 'reset', per_try_timeout: 50 } } }] });
    assert.equal(with50.routes[0]!.retryPolicy?.perTryTimeoutMs, 50);
  });
});

describe('docs/configuration.md', () => {
  test('the committed reference and field list are what scripts/gen-config-docs.ts produces', () => {
    for (const [rel, text] of Object.entries(renderConfigDocs())) {
      const committed = fs.readFileSync(path.join(REPO, rel), 'utf8');
      assert.ok(committed === text, `${rel} is out of date: run \`npx tsc -p tsconfig.json && node dist/scripts/gen-config-docs.js\``);
    }
  });

  test('it marks each field supported, ignored with a warning, or rejected', () => {
    const doc = renderConfigDocs()['docs/configuration.md']!;
    assert.match(doc, /\| `connect_timeout` \| duration \| supported \|/);
    assert.match(doc, /\| `per_connection_buffer_limit_bytes` \| \| accepted and ignored, with a warning \(Meltemi uses its own watermarks\) \|/);
    assert.match(doc, /\| `lrs_server` \| \| rejected: not supported by Meltemi \|/);
    assert.match(doc, /\| `request_timeout` \| duration \| supported \(Meltemi extension\) \|/);
  });
});
