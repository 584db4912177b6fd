/**
 * RBAC configs: what is refused by path, Istio-rendered network RBAC on a listener chain,
 * and network RBAC from LDS (protobuf round trip).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { compileBootstrap } from '../../proxy/config/compile.js';
import { ConfigError } from '../../config/errors.js';
import { discoveryResponse } from '../../xds-client/messages.js';
import { decodeListener } from '../xds/decoders.js';
import { sameContent } from '../../xds-client/resource-equality.js';
import { listenerContent } from '../../proxy/dynamic/listener-content.js';
import type { Resource } from '../../tools/testing/xds-control-plane.js';
import { mppListener } from '../../tools/testing/xds-resources.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { compileRbac, conn, freshPrefix, onePolicy, peer } from '../helpers/rbac.js';

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'rbac');
const ANY = [{ any: true }];

function fixture(name: string): { name: string; typedConfig: Record<string, unknown> } {
  return parseYaml(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as { name: string; typedConfig: Record<string, unknown> };
}

/** A bootstrap whose listener chain is `networkFilters` then the MetaProtocol proxy. */
function withNetworkFilters(networkFilters: object[], extra: Record<string, unknown> = {}): object {
  const l = metaProtocolListener({ routes: [{ name: 'all', cluster: 'demo' }], extra }) as { filter_chains: { filters: object[] }[] };
  l.filter_chains[0]!.filters.unshift(...networkFilters);
  return bootstrapOf([l], [staticCluster('demo', [1])]);
}

function problems(bootstrap: object): string[] {
  try {
    compileBootstrap(bootstrap);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

function networkRbac(config: object): object {
  return { name: 'envoy.filters.network.rbac', typed_config: { '@type': RBAC_TYPE, ...config } };
}

describe('RBAC fields Meltemi cannot honour are refused by path', () => {
  const cases: [string, 'network' | 'meta', object, RegExp][] = [
    ['CEL condition', 'network', { stat_prefix: 'x', rules: { policies: { p: { permissions: ANY, principals: ANY, condition: { id: 1 } } } } }, /rbac\.rules\.policies\.p\.condition: not supported by Meltemi/],
    ['url_path', 'network', onePolicy([{ url_path: { path: { exact: '/a' } } }], ANY), /permissions\[0\]\.url_path: not supported by Meltemi/],
    ['header on a network filter', 'network', onePolicy([{ header: { name: ':method', exact_match: 'GET' } }], ANY), /permissions\[0\]\.header: not supported by Meltemi/],
    ['Envoy dynamic metadata on a network filter', 'network', onePolicy([{ metadata: { filter: 'envoy.filters.a.b', path: [{ key: 'c' }] } }], ANY), /permissions\[0\]\.metadata: not supported by Meltemi/],
    ['Envoy MetadataMatcher where meltemi.filters.rbac wants a HeaderMatcher', 'meta', onePolicy([{ metadata: { filter: 'envoy.filters.a.b', path: [{ key: 'c' }] } }], ANY), /permissions\[0\]\.metadata\.filter: unknown field/],
    ['a permission matcher extension', 'network', onePolicy([{ matcher: { name: 'x' } }], ANY), /permissions\[0\]\.matcher: not supported by Meltemi/],
    ['principal filter_state', 'network', onePolicy(ANY, [{ filter_state: { key: 'k' } }]), /principals\[0\]\.filter_state: not supported by Meltemi/],
    ['the matcher API', 'network', { stat_prefix: 'x', matcher: {} }, /rbac\.matcher: not supported by Meltemi/],
    ['audit logging options', 'network', { stat_prefix: 'x', rules: { audit_logging_options: {} } }, /rbac\.rules\.audit_logging_options: not supported by Meltemi/],
    ['CONTINUOUS enforcement', 'network', { stat_prefix: 'x', enforcement_type: 'CONTINUOUS' }, /rbac\.enforcement_type: CONTINUOUS is not supported by Meltemi/],
    ['a prefix longer than the address', 'network', onePolicy(ANY, [{ remote_ip: { address_prefix: '10.0.0.0', prefix_len: 33 } }]), /principals\[0\]\.remote_ip\.prefix_len: 33 is longer than an IPv4 address/],
    ['an address that is none', 'network', onePolicy([{ destination_ip: { address_prefix: 'ten.0.0.1' } }], ANY), /permissions\[0\]\.destination_ip\.address_prefix: "ten\.0\.0\.1" is not an IP address/],
    ['any: false', 'network', onePolicy([{ any: false }], ANY), /permissions\[0\]\.any: must be true/],
    ['a permission with no rule', 'network', onePolicy([{}], ANY), /permissions\[0\]: a permission needs one of/],
    ['a principal with two identifiers', 'network', onePolicy(ANY, [{ any: true, remote_ip: { address_prefix: '1.2.3.4' } }]), /principals\[0\]: a principal takes only one of .* \(found any, remote_ip\)/],
    ['an empty permission list', 'network', { stat_prefix: 'x', rules: { policies: { p: { permissions: [], principals: ANY } } } }, /policies\.p\.permissions: needs at least 1/],
    ['an inverted port range', 'network', onePolicy([{ destination_port_range: { start: 90, end: 80 } }], ANY), /destination_port_range: \[90, 80\) is not a port range/],
    ['a StringMatcher with nothing to match', 'network', onePolicy(ANY, [{ authenticated: { principal_name: { ignore_case: true } } }]), /principal_name: a StringMatcher needs one of/],
    ['RE2 syntax RE2 refuses', 'network', onePolicy(ANY, [{ authenticated: { principal_name: { safe_regex: { regex: '(?<=a)b' } } } }]), /principal_name\.safe_regex\.regex: lookbehind/],
    ['no stat_prefix', 'network', { rules: {} }, /rbac\.stat_prefix: required field is missing/],
    ['another type URL', 'meta', { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC', stat_prefix: 'x' }, /rbac\.@type: expected type\.googleapis\.com\/envoy\.extensions\.filters\.network\.rbac\.v3\.RBAC/],
  ];
  for (const [what, flavour, config, want] of cases) {
    test(what, () => {
      const { rbac, errors } = compileRbac(flavour, config);
      assert.equal(rbac, undefined);
      assert.match(errors.join('\n'), want);
    });
  }

  test('on a listener, the path runs from the listener to the field', () => {
    const found = problems(withNetworkFilters([networkRbac(onePolicy([{ url_path: { path: { exact: '/a' } } }], ANY))]));
    assert.ok(
      found.some((p) => /listeners\[0\]\.filter_chains\[0\]\.filters\[0\]\.typed_config\.rules\.policies\.p\.permissions\[0\]\.url_path: not supported by Meltemi/.test(p)),
      found.join('\n'),
    );
  });

  test('a network filter other than RBAC in front of the proxy is refused by name', () => {
    const found = problems(withNetworkFilters([{ name: 'envoy.filters.network.echo', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo' } }]));
    assert.ok(found.some((p) => /filters\[0\]: network filter envoy\.filters\.network\.echo .* is not supported before the MetaProtocol proxy or tcp_proxy; only envoy\.filters\.network\.rbac/.test(p)), found.join('\n'));
  });

  test('meltemi.filters.rbac with a refused field refuses the listener, naming the filter', () => {
    const found = problems(withNetworkFilters([], { meta_protocol_filters: [{ name: 'meltemi.filters.rbac', config: onePolicy([{ url_path: {} }], ANY) }, { name: 'aeraki.meta_protocol.filters.router' }] }));
    assert.ok(found.some((p) => /meta_protocol_filters\[0\]\.config: .*url_path: not supported by Meltemi/s.test(p)), found.join('\n'));
  });
});

describe('network RBAC as istiod renders it', () => {
  test('ALLOW (allow-both-http-tcp): only rule 1 survives on TCP, namespace ns-1 on port 80', () => {
    const f = fixture('allow-tcp-rbac.yaml');
    const cfg = compileBootstrap(withNetworkFilters([f]));
    const [rbac] = cfg.listeners[0]!.metaChains[0]!.networkRbac;
    assert.ok(rbac !== undefined);
    assert.deepEqual(rbac.engine?.policyNames, ['ns[foo]-policy[httpbin-deny]-rule[1]']);
    const ns1 = peer(['spiffe://cluster.local/ns/ns-1/sa/sleep']);
    assert.equal(rbac.check({ connection: conn({ localPort: 80, peer: ns1 }), metadata: undefined }), true);
    assert.equal(rbac.check({ connection: conn({ localPort: 8080, peer: ns1 }), metadata: undefined }), false, 'port 8080 needed GET: dropped');
    assert.equal(rbac.check({ connection: conn({ localPort: 80, peer: peer(['spiffe://cluster.local/ns/ns-2/sa/sleep']) }), metadata: undefined }), false);
    assert.equal(rbac.check({ connection: conn({ localPort: 80 }), metadata: undefined }), false, 'plaintext has no principal');
    const counters: Record<string, number> = {};
    rbac.stats.collect(counters);
    assert.ok('tcp.rbac.allowed' in counters && 'tcp.rbac.istio_dry_run_shadow_denied' in counters, Object.keys(counters).join(' '));
  });

  test('DENY (deny-both-http-tcp rules 0-7): the HTTP conditions became any, so everything is denied', () => {
    const cfg = compileBootstrap(withNetworkFilters([fixture('deny-tcp-rbac.yaml')]));
    const [rbac] = cfg.listeners[0]!.metaChains[0]!.networkRbac;
    assert.equal(rbac!.engine?.action, 'DENY');
    assert.equal(rbac!.check({ connection: conn({ localPort: 12345 }), metadata: undefined }), false);
  });

  test('dry run: shadow rules count under tcp.rbac.istio_dry_run_allow_, the enforced rules decide', () => {
    const cfg = compileBootstrap(withNetworkFilters([fixture('dry-run-rbac.yaml')]));
    const [rbac] = cfg.listeners[0]!.metaChains[0]!.networkRbac;
    const before: Record<string, number> = {};
    rbac!.stats.collect(before);
    assert.equal(rbac!.check({ connection: conn({ localPort: 9000 }), metadata: undefined }), true);
    assert.equal(rbac!.check({ connection: conn({ localPort: 80 }), metadata: undefined }), false);
    const after: Record<string, number> = {};
    rbac!.stats.collect(after);
    const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
    assert.equal(delta('tcp.rbac.istio_dry_run_allow_shadow_allowed'), 1);
    assert.equal(delta('tcp.rbac.istio_dry_run_allow_shadow_denied'), 1);
    assert.equal(delta('tcp.rbac.allowed'), 1);
    assert.equal(delta('tcp.rbac.denied'), 1);
  });

  test('one filter per action in chain order (AUDIT, DENY, ALLOW) before the proxy', () => {
    const audit = networkRbac({ stat_prefix: 'tcp.', rules: { action: 'LOG', policies: { a: { permissions: ANY, principals: ANY } } } });
    const cfg = compileBootstrap(withNetworkFilters([audit, fixture('deny-tcp-rbac.yaml'), fixture('allow-tcp-rbac.yaml')]));
    assert.deepEqual(cfg.listeners[0]!.metaChains[0]!.networkRbac.map((r) => r.engine?.action), ['LOG', 'DENY', 'ALLOW']);
  });

  test('a rule on Envoy dynamic metadata (deny-both-http-tcp rule 8) is refused by path', () => {
    const found = problems(withNetworkFilters([fixture('deny-with-metadata-rbac.yaml')]));
    assert.ok(
      found.some((p) => /filters\[0\]\.typed_config\.rules\.policies\.ns\[foo\]-policy\[httpbin-deny\]-rule\[8\]\.permissions\[0\]\.and_rules\.rules\[5\]\.or_rules\.rules\[0\]\.metadata: not supported by Meltemi/.test(p)),
      found.join('\n'),
    );
  });
});

describe('network RBAC from LDS', () => {
  function wire(res: Resource): Record<string, unknown> {
    const codec = discoveryResponse();
    return codec.deserialize(codec.serialize({ type_url: String(res['@type']), resources: [res] })).resources![0]!;
  }

  test('RBAC filters in front of the MetaProtocol proxy survive the protobuf round trip and are compiled', () => {
    const l = mppListener('inbound|20880||');
    const chain = (l['filter_chains'] as { filters: object[] }[])[0]!;
    const prefix = freshPrefix();
    chain.filters.unshift(
      { name: 'istio.metadata_exchange', typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: 'type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange', value: { protocol: 'istio-peer-exchange' } } },
      networkRbac({ stat_prefix: prefix, rules: { action: 'DENY', policies: { 'ns[foo]-policy[x]-rule[0]': { permissions: [{ destination_port: 20880 }], principals: [{ remote_ip: { address_prefix: '10.0.0.0', prefix_len: { value: 8 } } }] } } } }),
    );
    const errors: string[] = [];
    const decoded = decodeListener(wire(l), errors);
    assert.deepEqual(errors, []);
    assert.ok(decoded !== undefined && decoded !== 'not-ours');
    const filters = decoded.listener.filter_chains![0]!.filters;
    assert.equal(filters.length, 2, 'the RBAC filter and the proxy');
    assert.equal(filters[0]!.name, 'envoy.filters.network.rbac');
    const cfg = compileBootstrap(bootstrapOf([decoded.listener], [staticCluster('v1', [1])]));
    const [rbac] = cfg.listeners[0]!.metaChains[0]!.networkRbac;
    assert.equal(rbac!.check({ connection: conn({ remoteAddress: '10.1.1.1', localPort: 20880 }), metadata: undefined }), false);
    assert.equal(rbac!.check({ connection: conn({ remoteAddress: '11.1.1.1', localPort: 20880 }), metadata: undefined }), true);
  });

  test('a refused RBAC field from LDS is a NACK naming the listener and the path', () => {
    const l = mppListener('inbound|20881||');
    (l['filter_chains'] as { filters: object[] }[])[0]!.filters.unshift(networkRbac({ stat_prefix: 'tcp.', enforcement_type: 'CONTINUOUS' }));
    const errors: string[] = [];
    assert.equal(decodeListener(wire(l), errors), undefined);
    assert.match(errors.join('\n'), /listener inbound\|20881\|\|.*filters\[0\]\.typed_config\.enforcement_type: CONTINUOUS is not supported/);
  });
});

describe('a changed network RBAC is a changed listener', () => {
  const content = (rbacFilter: object): unknown => listenerContent(compileBootstrap(withNetworkFilters([rbacFilter])).listeners[0]!);
  const policy = (port: number): object => ({ stat_prefix: 'tcp.', rules: { policies: { p: { permissions: [{ destination_port: port }], principals: ANY } } } });

  test('another port in a policy differs; the same policy as a TypedStruct (lowerCamel) is the same', () => {
    const direct = content(networkRbac(policy(80)));
    assert.equal(sameContent(direct, content(networkRbac(policy(81)))), false);
    const typedStruct = {
      name: 'envoy.filters.network.rbac',
      typed_config: {
        '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct',
        type_url: RBAC_TYPE,
        value: { statPrefix: 'tcp.', rules: { policies: { p: { permissions: [{ destinationPort: 80 }], principals: ANY } } } },
      },
    };
    assert.equal(sameContent(direct, content(typedStruct)), true);
  });
});
