/** Envoy's RBAC semantics, checked on the compiled engine with connection facts given by the test. */
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, test } from 'node:test';
import { compileRbacRules, statPrefixJoin } from '../../filters/rbac/index.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import { compileCidr, ipv6Groups } from '../../filters/rbac/cidr.js';
import type { ConnectionInfo } from '../../filters/api/index.js';
import { conn, freshPrefix, metadataOf, mustCompile, onePolicy, peer } from '../helpers/rbac.js';

const ANY = [{ any: true }];

function allows(rbac: RbacAuthorizer, c: ConnectionInfo, md?: Record<string, string>): boolean {
  return rbac.check({ connection: c, metadata: md === undefined ? undefined : metadataOf(md) });
}

function counters(rbac: RbacAuthorizer): Record<string, number> {
  const out: Record<string, number> = {};
  rbac.stats.collect(out);
  return out;
}

describe('RBAC principals', () => {
  test('authenticated.principal_name matches the URI SAN of a TLS peer; plaintext never matches', () => {
    const rbac = mustCompile('network', onePolicy(ANY, [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/foo/sa/client' } } }]));
    assert.equal(allows(rbac, conn({ peer: peer(['spiffe://cluster.local/ns/foo/sa/client']) })), true);
    assert.equal(allows(rbac, conn({ peer: peer(['spiffe://cluster.local/ns/bar/sa/client']) })), false, 'wrong SAN');
    assert.equal(allows(rbac, conn()), false, 'plaintext');
  });

  test('authenticated without a name matches any TLS peer, even one without a certificate', () => {
    const rbac = mustCompile('network', onePolicy(ANY, [{ authenticated: {} }]));
    assert.equal(allows(rbac, conn({ peer: peer([]) })), true);
    assert.equal(allows(rbac, conn()), false);
  });

  test('principal_name falls back to DNS SANs, then to the subject', () => {
    const dns = mustCompile('network', onePolicy(ANY, [{ authenticated: { principal_name: { suffix: '.example.com' } } }]));
    assert.equal(allows(dns, conn({ peer: peer(['spiffe://td/ns/a/sa/b'], ['api.example.com']) })), true);
    const subject = mustCompile('network', onePolicy(ANY, [{ authenticated: { principal_name: { exact: 'CN=client,O=acme' } } }]));
    assert.equal(allows(subject, conn({ peer: peer([], [], 'CN=client,O=acme') })), true);
    assert.equal(allows(subject, conn({ peer: peer([], [], 'CN=other,O=acme') })), false);
  });

  test("Istio's namespace regex (.*/ns/<ns>/.*) and its prefix form", () => {
    const rbac = mustCompile('network', onePolicy(ANY, [{ or_ids: { ids: [
      { authenticated: { principal_name: { safe_regex: { google_re2: {}, regex: '.*/ns/ns-1/.*' } } } },
      { authenticated: { principal_name: { prefix: 'spiffe://other.td/' } } },
    ] } }]));
    assert.equal(allows(rbac, conn({ peer: peer(['spiffe://cluster.local/ns/ns-1/sa/default']) })), true);
    assert.equal(allows(rbac, conn({ peer: peer(['spiffe://other.td/ns/x/sa/y']) })), true);
    assert.equal(allows(rbac, conn({ peer: peer(['spiffe://cluster.local/ns/ns-2/sa/default']) })), false);
  });

  test('remote_ip / source_ip CIDR ranges, IPv4-mapped addresses, IPv6', () => {
    const v4 = mustCompile('network', onePolicy(ANY, [{ remote_ip: { address_prefix: '10.1.2.0', prefix_len: 24 } }]));
    assert.equal(allows(v4, conn({ remoteAddress: '10.1.2.200' })), true);
    assert.equal(allows(v4, conn({ remoteAddress: '::ffff:10.1.2.3' })), true, 'dual-stack socket spelling');
    assert.equal(allows(v4, conn({ remoteAddress: '10.1.3.1' })), false);
    assert.equal(allows(v4, conn({ remoteAddress: 'fd00::1' })), false, 'other IP version');
    const legacy = mustCompile('network', onePolicy(ANY, [{ source_ip: { address_prefix: '192.168.0.7', prefix_len: { value: 32 } } }]));
    assert.equal(allows(legacy, conn({ remoteAddress: '192.168.0.7' })), true);
    assert.equal(allows(legacy, conn({ remoteAddress: '192.168.0.8' })), false);
    const v6 = mustCompile('network', onePolicy(ANY, [{ remote_ip: { address_prefix: 'fd00::', prefix_len: 8 } }]));
    assert.equal(allows(v6, conn({ remoteAddress: 'fd12:3456::1' })), true);
    assert.equal(allows(v6, conn({ remoteAddress: 'fe80::1' })), false);
    const host = mustCompile('network', onePolicy(ANY, [{ remote_ip: { address_prefix: '127.0.0.1' } }]));
    assert.equal(allows(host, conn({ remoteAddress: '127.0.0.1' })), true, 'no prefix_len: the whole address');
    assert.equal(allows(host, conn({ remoteAddress: '127.0.0.2' })), false);
  });

  test('direct_remote_ip reads the physical peer, remote_ip the (restorable) client address', () => {
    const direct = mustCompile('network', onePolicy(ANY, [{ direct_remote_ip: { address_prefix: '10.9.0.0', prefix_len: 16 } }]));
    const remote = mustCompile('network', onePolicy(ANY, [{ remote_ip: { address_prefix: '10.9.0.0', prefix_len: 16 } }]));
    const c = conn({ remoteAddress: '203.0.113.5', directRemoteAddress: '10.9.1.1' });
    assert.equal(allows(direct, c), true);
    assert.equal(allows(remote, c), false);
  });

  test('and_ids, or_ids and not_id combine as Envoy says', () => {
    const rbac = mustCompile('network', onePolicy(ANY, [{ and_ids: { ids: [
      { remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } },
      { not_id: { remote_ip: { address_prefix: '10.6.6.6', prefix_len: 32 } } },
    ] } }]));
    assert.equal(allows(rbac, conn({ remoteAddress: '10.1.1.1' })), true);
    assert.equal(allows(rbac, conn({ remoteAddress: '10.6.6.6' })), false);
    assert.equal(allows(rbac, conn({ remoteAddress: '11.1.1.1' })), false);
  });
});

describe('RBAC permissions', () => {
  test('destination_port, destination_port_range (half-open) and destination_ip', () => {
    const port = mustCompile('network', onePolicy([{ destination_port: 20880 }], ANY));
    assert.equal(allows(port, conn({ localPort: 20880 })), true);
    assert.equal(allows(port, conn({ localPort: 20881 })), false);
    const range = mustCompile('network', onePolicy([{ destination_port_range: { start: 9000, end: 9002 } }], ANY));
    assert.deepEqual([8999, 9000, 9001, 9002].map((p) => allows(range, conn({ localPort: p }))), [false, true, true, false]);
    const ip = mustCompile('network', onePolicy([{ destination_ip: { address_prefix: '10.0.0.0', prefix_len: 30 } }], ANY));
    assert.equal(allows(ip, conn({ localAddress: '10.0.0.3' })), true);
    assert.equal(allows(ip, conn({ localAddress: '10.0.0.4' })), false);
  });

  test('requested_server_name matches the SNI ("" on plaintext)', () => {
    const rbac = mustCompile('network', onePolicy([{ requested_server_name: { suffix: '.svc.cluster.local' } }], ANY));
    assert.equal(allows(rbac, conn({ requestedServerName: 'outbound_.20880_._.demo.svc.cluster.local', peer: peer([]) })), true);
    assert.equal(allows(rbac, conn()), false);
  });

  test('and_rules, or_rules, not_rule', () => {
    const rbac = mustCompile('network', onePolicy([{ and_rules: { rules: [
      { or_rules: { rules: [{ destination_port: 80 }, { destination_port: 81 }] } },
      { not_rule: { destination_ip: { address_prefix: '10.10.10.10', prefix_len: 32 } } },
    ] } }], ANY));
    assert.equal(allows(rbac, conn({ localPort: 81 })), true);
    assert.equal(allows(rbac, conn({ localPort: 81, localAddress: '10.10.10.10' })), false);
    assert.equal(allows(rbac, conn({ localPort: 82 })), false);
  });

  test('meta flavour: metadata (and header) take one HeaderMatcher over the lower-cased keys', () => {
    const rbac = mustCompile('meta', onePolicy([{ metadata: { name: 'method', exact_match: 'sayHello' } }, { header: { name: 'Interface', prefix_match: 'org.apache.dubbo.' } }], ANY));
    assert.equal(allows(rbac, conn(), { method: 'sayHello' }), true);
    assert.equal(allows(rbac, conn(), { method: 'sayBye', interface: 'org.apache.dubbo.demo.Greeter' }), true);
    assert.equal(allows(rbac, conn(), { method: 'sayBye', interface: 'com.acme.Greeter' }), false);
    assert.equal(allows(rbac, conn(), {}), false, 'missing key');
    const principal = mustCompile('meta', onePolicy(ANY, [{ header: { name: 'x-caller', exact_match: 'billing' } }]));
    assert.equal(allows(principal, conn(), { 'x-caller': 'billing' }), true);
    assert.equal(allows(principal, conn(), { 'x-caller': 'web' }), false);
  });
});

describe('RBAC actions, policies and stats', () => {
  test('ALLOW lets through what a policy matches; DENY refuses it; LOG lets everything through', () => {
    const policy = (action: string): RbacAuthorizer => mustCompile('network', onePolicy([{ destination_port: 80 }], ANY, action));
    assert.deepEqual([80, 81].map((p) => allows(policy('ALLOW'), conn({ localPort: p }))), [true, false]);
    assert.deepEqual([80, 81].map((p) => allows(policy('DENY'), conn({ localPort: p }))), [false, true]);
    assert.deepEqual([80, 81].map((p) => allows(policy('LOG'), conn({ localPort: p }))), [true, true]);
  });

  test("rules with no policy: ALLOW denies everything (Istio's deny-all), DENY allows everything", () => {
    assert.equal(allows(mustCompile('network', { stat_prefix: freshPrefix(), rules: {} }), conn()), false);
    assert.equal(allows(mustCompile('network', { stat_prefix: freshPrefix(), rules: { action: 'DENY' } }), conn()), true);
  });

  test('no rules: everything passes and nothing is counted', () => {
    const rbac = mustCompile('network', { stat_prefix: freshPrefix() });
    assert.equal(allows(rbac, conn()), true);
    assert.ok(Object.values(counters(rbac)).every((v) => v === 0));
  });

  test('policies are tried in lexicographic order of their names', () => {
    const errors: string[] = [];
    const engine = compileRbacRules({ policies: { zeta: { permissions: [{ any: true }], principals: [{ any: true }] }, alpha: { permissions: [{ any: true }], principals: [{ any: true }] } } }, 'r', errors);
    assert.deepEqual(errors, []);
    assert.deepEqual(engine!.policyNames, ['alpha', 'zeta']);
    assert.equal(engine!.evaluate({ connection: conn(), metadata: undefined }).policy, 'alpha');
  });

  test('shadow rules are counted and never block; the enforced rules decide', () => {
    const prefix = freshPrefix();
    const rbac = mustCompile('network', {
      stat_prefix: prefix,
      shadow_rules_stat_prefix: 'istio_dry_run_allow_',
      rules: { action: 'DENY', policies: {} },
      shadow_rules: { policies: { p: { permissions: [{ destination_port: 80 }], principals: ANY } } },
    });
    assert.equal(allows(rbac, conn({ localPort: 81 })), true, 'a shadow deny does not block');
    assert.equal(allows(rbac, conn({ localPort: 80 })), true);
    const c = counters(rbac);
    assert.equal(c[`${prefix}rbac.istio_dry_run_allow_shadow_denied`], 1);
    assert.equal(c[`${prefix}rbac.istio_dry_run_allow_shadow_allowed`], 1);
    assert.equal(c[`${prefix}rbac.allowed`], 2);
    assert.equal(c[`${prefix}rbac.denied`], 0);
  });

  test("stat names follow Envoy's statPrefixJoin", () => {
    assert.equal(statPrefixJoin('tcp.', 'rbac.'), 'tcp.rbac.');
    assert.equal(statPrefixJoin('tcp', 'rbac.'), 'tcp.rbac.');
    assert.equal(statPrefixJoin('', 'rbac.'), 'rbac.');
    const name = `n${process.pid}x`;
    const rbac = mustCompile('network', { stat_prefix: name, rules: {} });
    allows(rbac, conn());
    assert.equal(counters(rbac)[`${name}.rbac.denied`], 1);
  });
});

describe('CIDR matching', () => {
  test('agrees with node:net BlockList on random IPv4 and IPv6 addresses and prefixes', () => {
    const v4 = fc.tuple(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }));
    fc.assert(
      fc.property(v4, ([prefix, address, len]) => {
        const list = new BlockList();
        list.addSubnet(prefix, len, 'ipv4');
        assert.equal(compileCidr({ address_prefix: prefix, prefix_len: len })(address), list.check(address, 'ipv4'));
      }),
      { numRuns: 2000 },
    );
    // Addresses near the prefix, so that long prefixes match too.
    const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(v6, ([prefix, len, group, value]) => {
        const groups = ipv6Groups(prefix);
        fc.pre(groups !== undefined && !prefix.includes('.'));
        groups![group] = value;
        const address = groups!.map((g) => g.toString(16)).join(':');
        const list = new BlockList();
        list.addSubnet(prefix, len, 'ipv6');
        assert.equal(compileCidr({ address_prefix: prefix, prefix_len: len })(address), list.check(address, 'ipv6'), `${address} in ${prefix}/${len}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('refuses what is no address, and never matches across IP versions', () => {
    assert.throws(() => compileCidr({ address_prefix: '10.0.0.256' }), /not an IP address/);
    assert.throws(() => compileCidr({ address_prefix: 'fd00::', prefix_len: 129 }), /longer than an IPv6 address/);
    assert.equal(compileCidr({ address_prefix: '0.0.0.0', prefix_len: 0 })('::1'), false);
    assert.equal(compileCidr({ address_prefix: '::', prefix_len: 0 })('10.0.0.1'), false);
    assert.equal(compileCidr({ address_prefix: '::', prefix_len: 0 })('garbage'), false);
  });
});
