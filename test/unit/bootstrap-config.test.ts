import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Metadata } from '../../codecs/api/index.js';
import { ConfigError, compileBootstrap } from '../../proxy/index.js';
import { compileHeaderMatcher } from '../../config/header-matcher.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

function problems(doc: unknown): string[] {
  try {
    compileBootstrap(doc);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.problems];
  }
  assert.fail('the bootstrap was accepted');
}

const good = (): Record<string, unknown> =>
  bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', match: { method: 'x' }, cluster: 'c' }] })], [staticCluster('c', [20880])]) as Record<string, unknown>;

describe('bootstrap validation', () => {
  test('a valid bootstrap compiles', () => {
    const c = compileBootstrap(good());
    assert.equal(c.listeners.length, 1);
    assert.equal(c.listeners[0]!.protocol, 'dubbo');
    assert.equal(c.clusters[0]!.hosts[0]!.port, 20880);
  });

  test('unknown fields are reported with their full path', () => {
    const doc = good();
    (doc['static_resources'] as { clusters: Record<string, unknown>[] }).clusters[0]!['conect_timeout'] = '1s';
    assert.deepEqual(problems(doc), ['static_resources.clusters[0].conect_timeout: unknown field (did you mean connect_timeout?)']);
  });

  test('errors inside the MetaProtocolProxy typed_config name the path', () => {
    const doc = good() as { static_resources: { listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[] } };
    const tc = doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config;
    tc['idle_timeout'] = 'soon';
    tc['codec'] = { name: 'aeraki.meta_protocol.codec.nope' };
    const p = problems(doc);
    assert.ok(p.some((x) => x === 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.idle_timeout: expected a duration such as "1s" or "0.250s", got string "soon"'), p.join('\n'));
  });

  test('an unknown codec is named', () => {
    const doc = good() as { static_resources: { listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[] } };
    doc.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config['codec'] = { name: 'aeraki.meta_protocol.codec.nope' };
    assert.deepEqual(problems(doc), ["static_resources.listeners[0].filter_chains[0].filters[0].typed_config.codec.name: unknown codec 'aeraki.meta_protocol.codec.nope'"]);
  });

  test('camelCase proto-JSON spellings are accepted, as Aeraki writes them', () => {
    const doc = {
      staticResources: {
        listeners: [
          {
            name: 'l',
            address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
            filterChains: [
              {
                filters: [
                  {
                    name: 'envoy.filters.network.meta_protocol_proxy',
                    typedConfig: {
                      '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
                      typeUrl: 'type.googleapis.com/aeraki.meta_protocol_proxy.v1alpha.MetaProtocolProxy',
                      value: {
                        statPrefix: 'outbound|20880||demo',
                        protocol: { name: 'dubbo', codec: { name: 'aeraki.meta_protocol.codec.dubbo' } },
                        routeConfig: { routes: [{ name: 'r', route: { weightedClusters: { clusters: [{ name: 'c', weight: 1 }] } } }] },
                        metaProtocolFilters: [{ name: 'aeraki.meta_protocol.filters.router' }],
                      },
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [{ name: 'c', connectTimeout: '0.5s', type: 'STATIC', lbPolicy: 'ROUND_ROBIN', loadAssignment: { clusterName: 'c', endpoints: [{ lbEndpoints: [] }] } }],
      },
    };
    const c = compileBootstrap(doc);
    assert.equal(c.listeners[0]!.statPrefix, 'outbound|20880||demo');
    assert.equal(c.clusters[0]!.connectTimeoutMs, 500);
  });

  test('unsupported lb_policy, missing required fields and oneof conflicts are errors', () => {
    const doc = good() as { static_resources: { clusters: Record<string, unknown>[]; listeners: Record<string, unknown>[] } };
    doc.static_resources.clusters[0]!['lb_policy'] = 'CLUSTER_PROVIDED';
    delete doc.static_resources.listeners[0]!['address'];
    const p = problems(doc);
    assert.ok(p.includes('static_resources.clusters[0].lb_policy: expected one of ROUND_ROBIN, RANDOM, LEAST_REQUEST, RING_HASH, MAGLEV, got string "CLUSTER_PROVIDED"'), p.join('\n'));
    assert.ok(p.includes('static_resources.listeners[0].address: required field is missing'), p.join('\n'));
  });

  test('a route referring to an undefined cluster is a warning, not an error', () => {
    const doc = bootstrapOf([metaProtocolListener({ routes: [{ name: 'r', cluster: 'ghost' }] })], []);
    const c = compileBootstrap(doc);
    assert.ok(c.warnings.some((w) => w.includes("cluster 'ghost' is not defined")));
  });
});

describe('header matchers (Envoy semantics on metadata)', () => {
  const md = (values: Record<string, string>): Metadata => ({ get: (k) => values[k], entries: () => Object.entries(values) });
  const m = (cfg: object): ((x: Metadata) => boolean) => compileHeaderMatcher({ name: 'k', ...cfg } as Parameters<typeof compileHeaderMatcher>[0]);

  test('exact, prefix, suffix, contains, regex (full match), range, present', () => {
    assert.equal(m({ exact_match: 'ab' })(md({ k: 'ab' })), true);
    assert.equal(m({ exact_match: 'ab' })(md({ k: 'abc' })), false);
    assert.equal(m({ prefix_match: 'a' })(md({ k: 'abc' })), true);
    assert.equal(m({ suffix_match: 'c' })(md({ k: 'abc' })), true);
    assert.equal(m({ contains_match: 'b' })(md({ k: 'abc' })), true);
    assert.equal(m({ safe_regex_match: { regex: 'a.' } })(md({ k: 'ab' })), true);
    assert.equal(m({ safe_regex_match: { regex: 'a.' } })(md({ k: 'abc' })), false, 'RE2 full match');
    assert.equal(m({ range_match: { start: 10, end: 20 } })(md({ k: '19' })), true);
    assert.equal(m({ range_match: { start: 10, end: 20 } })(md({ k: '20' })), false);
    assert.equal(m({ present_match: true })(md({ k: '' })), true);
    assert.equal(m({ present_match: true })(md({})), false);
    assert.equal(m({ present_match: false })(md({})), true);
    assert.equal(m({ string_match: { exact: 'AB', ignore_case: true } })(md({ k: 'ab' })), true);
  });

  test('invert_match and treat_missing_header_as_empty', () => {
    assert.equal(m({ exact_match: 'a', invert_match: true })(md({ k: 'b' })), true);
    assert.equal(m({ exact_match: 'a', invert_match: true })(md({})), false, 'missing never matches');
    assert.equal(m({ exact_match: '', treat_missing_header_as_empty: true })(md({})), true);
  });
});

