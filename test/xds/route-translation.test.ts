/**
 * MetaRDS → meta route model, exactly as spec/metaprotocol.md §6.6 says, on resources
 * that went through the protobuf wire (encoded and decoded as the client receives them).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { discoveryResponse } from '../../xds-client/messages.js';
import { metaRouteConfigFromRds } from './decoders.js';
import { ROUTE_TYPE } from '../../xds-client/type-urls.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';

/** Through the wire, as the client sees it. */
function overTheWire(res: Resource): Record<string, unknown> {
  const codec = discoveryResponse();
  return codec.deserialize(codec.serialize({ type_url: ROUTE_TYPE, version_info: '1', nonce: '1', resources: [res] })).resources![0]!;
}

const AERAKI_ROUTE: Resource = {
  '@type': ROUTE_TYPE,
  name: 'org.apache.dubbo.samples.basic.api.demoservice_20880',
  virtual_hosts: [
    {
      name: 'dummy',
      domains: ['*'],
      routes: [
        {
          name: 'v2',
          match: {
            prefix: '/',
            headers: [
              { name: 'version', exact_match: '2.0.0' },
              { name: 'method', prefix_match: 'say' },
              { name: 'interface', safe_regex_match: { google_re2: {}, regex: 'org\\..*' } },
              { name: 'env', present_match: true },
              { name: 'region', string_match: { suffix: '-east' } },
            ],
          },
          route: {
            weighted_clusters: { clusters: [{ name: 'a', weight: { value: 20 } }, { name: 'b', weight: { value: 80 } }], total_weight: { value: 100 } },
            hash_policy: [{ header: { header_name: 'userId' } }, { cookie: { name: 'x' } }],
            request_mirror_policies: [
              { cluster: 'mirror', runtime_fraction: { default_value: { numerator: 500000, denominator: 'MILLION' } } },
              { cluster: 'mirror-nofraction' },
            ],
          },
          request_headers_to_add: [{ header: { key: 'x-canary', value: 'yes' }, append: { value: true } }],
          response_headers_to_add: [{ header: { key: 'x-resp', value: '1' } }],
        },
        { name: 'default', match: { prefix: '/' }, route: { cluster: 'outbound|20880||demo' } },
      ],
    },
  ],
};

test('an Aeraki MetaRDS route config translates to the meta route model (§6.6)', () => {
  const errors: string[] = [];
  const cfg = metaRouteConfigFromRds(overTheWire(AERAKI_ROUTE), 'org.apache.dubbo.samples.basic.api.demoservice_20880', errors);
  assert.deepEqual(errors, []);
  assert.deepEqual(cfg, {
    name: 'org.apache.dubbo.samples.basic.api.demoservice_20880',
    routes: [
      {
        name: 'v2',
        match: {
          metadata: [
            { name: 'version', exact_match: '2.0.0' },
            { name: 'method', prefix_match: 'say' },
            { name: 'interface', safe_regex_match: { google_re2: {}, regex: 'org\\..*' } },
            { name: 'env', present_match: true },
            { name: 'region', string_match: { suffix: '-east' } },
          ],
        },
        route: {
          weighted_clusters: { clusters: [{ name: 'a', weight: 20 }, { name: 'b', weight: 80 }] },
          // Policies other than header become "".
          hash_policy: ['userId', ''],
          request_mirror_policies: [
            { cluster: 'mirror', runtime_fraction: { default_value: { numerator: 500000, denominator: 'MILLION' } } },
            // Without runtime_fraction: 0% on the client.
            { cluster: 'mirror-nofraction', runtime_fraction: { default_value: { numerator: 0 } } },
          ],
        },
        request_mutation: [{ key: 'x-canary', value: 'yes' }],
        response_mutation: [{ key: 'x-resp', value: '1' }],
      },
      { name: 'default', match: { metadata: [] }, route: { cluster: 'outbound|20880||demo' } },
    ],
  });
});

test('MetaRDS validation: name mismatch, virtual host count, no routes, bad route action', () => {
  const cases: [Resource, string | undefined, RegExp][] = [
    [AERAKI_ROUTE, 'other_20880', /Unexpected RDS configuration \(expecting other_20880\): org\.apache/],
    [{ ...AERAKI_ROUTE, virtual_hosts: [] }, undefined, /exactly one virtual host \(got 0\)/],
    [{ ...AERAKI_ROUTE, virtual_hosts: [{ name: 'dummy', domains: ['*'], routes: [] }] }, undefined, /no routes/],
    [{ ...AERAKI_ROUTE, virtual_hosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, redirect: { host_redirect: 'x' } }] }] }, undefined, /only route actions/],
    [{ ...AERAKI_ROUTE, virtual_hosts: [{ name: 'dummy', domains: ['*'], routes: [{ name: 'r', match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 0 } }] } } }] }] }, undefined, /add up to 0/],
  ];
  for (const [res, expected, re] of cases) {
    const errors: string[] = [];
    assert.equal(metaRouteConfigFromRds(overTheWire(res), expected, errors), undefined);
    assert.match(errors.join('; '), re);
  }
});
