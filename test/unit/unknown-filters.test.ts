/** Filter names a listener may not know: refused with the known ones listed, or skipped when optional. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { ConfigError } from '../../config/errors.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';

function withFilters(filters: object[]): object {
  return bootstrapOf(
    [metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }], extra: { meta_protocol_filters: [...filters, { name: 'aeraki.meta_protocol.filters.router' }] } })],
    [staticCluster('demo', [1])],
  );
}

describe('unknown filters', () => {
  test('an unknown filter is refused with a message naming it and the known filters', () => {
    const err = (() => {
      try {
        compileBootstrap(withFilters([{ name: 'acme.filters.auth' }]));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError);
    const msg = err.problems.join('\n');
    assert.match(msg, /meta_protocol_filters\[0\]\.name: unknown filter acme\.filters\.auth \(known: /);
    for (const known of ['aeraki.meta_protocol.filters.router', 'aeraki.meta_protocol.filters.ratelimit', 'aeraki.meta_protocol.filters.local_ratelimit']) assert.ok(msg.includes(known), known);
  });

  test('an unknown filter marked is_optional (or isOptional) is skipped; the listener is accepted', () => {
    const cfg = compileBootstrap(withFilters([{ name: 'acme.filters.auth', is_optional: true }, { name: 'acme.filters.other', isOptional: true }]));
    assert.equal(cfg.listeners[0]!.filters.length, 1, 'only the router is left');
  });

  test('is_optional does not excuse a bad config of a known filter', () => {
    assert.throws(() => compileBootstrap(withFilters([{ name: 'aeraki.meta_protocol.filters.ratelimit', is_optional: true, config: { domain: 'x' } }])), /rate_limit_service: required field is missing/);
  });

  test("the global rate-limit filter is known by Aeraki's name and type URL", () => {
    const cfg = compileBootstrap(
      withFilters([
        {
          name: 'aeraki.meta_protocol.filters.ratelimit',
          config: {
            '@type': 'type.googleapis.com/aeraki.meta_protocol_proxy.filters.ratelimit.v1alpha.RateLimit',
            match: { metadata: [{ name: 'method', exact_match: 'sayHello' }] },
            domain: 'production',
            timeout: '0.100s',
            failure_mode_deny: true,
            rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: 'outbound|8081||rate-limit-server.meta-dubbo.svc.cluster.local' } } },
            descriptors: [{ property: 'method', descriptor_key: 'method' }],
          },
        },
      ]),
    );
    assert.equal(cfg.listeners[0]!.filters.length, 2);
  });
});
