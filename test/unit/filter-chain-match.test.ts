/**
 * Filter chain selection with Envoy's precedence (spec/istio-sidecar.md §4.4): the most
 * specific value wins at each step, an unset field is the fallback, there is no
 * backtracking, and a connection no chain takes goes to the default chain.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileChainMatch, FilterChainSelector } from '../../proxy/downstream/filter-chain-match.js';
import type { ConnectionFacts, FilterChainMatchConfig } from '../../proxy/downstream/filter-chain-match.js';
import { cidrContains, ipValue, parseCidr } from '../../proxy/net/cidr.js';

function selector(chains: Record<string, FilterChainMatchConfig | undefined>, defaultChain?: string): FilterChainSelector<string> {
  const errors: string[] = [];
  const entries = Object.entries(chains).map(([value, m]) => ({ match: compileChainMatch(m, value, errors), value }));
  assert.deepEqual(errors, []);
  return new FilterChainSelector(entries, defaultChain);
}

function facts(over: Partial<ConnectionFacts>): ConnectionFacts {
  return { destinationIp: '10.0.0.5', destinationPort: 20880, sourceIp: '10.0.0.9', sourcePort: 40000, transportProtocol: 'raw_buffer', applicationProtocols: [], serverName: '', ...over };
}

test("Istio's virtualInbound: the port's chain, the blackhole for 15006, else the passthrough chain", () => {
  const s = selector({ blackhole: { destination_port: 15006 }, passthrough: undefined, dubbo: { destination_port: 20880 }, thrift: { destination_port: 9090 } });
  assert.equal(s.select(facts({ destinationPort: 20880 })), 'dubbo');
  assert.equal(s.select(facts({ destinationPort: 9090 })), 'thrift');
  assert.equal(s.select(facts({ destinationPort: 15006 })), 'blackhole');
  assert.equal(s.select(facts({ destinationPort: 8080 })), 'passthrough');
});

test('the longest destination prefix wins; a chain without prefix_ranges is the fallback', () => {
  const s = selector({
    wide: { prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 8 }] },
    narrow: { prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 24 }] },
    any: {},
  });
  assert.equal(s.select(facts({ destinationIp: '10.0.0.5' })), 'narrow');
  assert.equal(s.select(facts({ destinationIp: '10.9.0.5' })), 'wide');
  assert.equal(s.select(facts({ destinationIp: '192.168.1.1' })), 'any');
  assert.equal(s.select(facts({ destinationIp: '::ffff:10.0.0.5' })), 'narrow', 'an IPv4-mapped address matches as IPv4');
});

test('destination port is decided before the prefix, with no backtracking', () => {
  // Envoy picks the port-specific branch first; its prefix then fails, and the other chain is not tried.
  const s = selector({ port: { destination_port: 20880, prefix_ranges: [{ address_prefix: '192.168.0.0', prefix_len: 16 }] }, prefix: { prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 8 }] } }, 'default');
  assert.equal(s.select(facts({ destinationPort: 20880, destinationIp: '10.0.0.5' })), 'default');
  assert.equal(s.select(facts({ destinationPort: 20881, destinationIp: '10.0.0.5' })), 'prefix');
});

test('transport protocol and ALPN (the PERMISSIVE split): istio ALPN, other TLS, plaintext', () => {
  const s = selector({
    mtls: { destination_port: 20880, transport_protocol: 'tls', application_protocols: ['istio', 'istio-peer-exchange'] },
    tlsPassthrough: { destination_port: 20880, transport_protocol: 'tls' },
    plain: { destination_port: 20880, transport_protocol: 'raw_buffer' },
  });
  assert.equal(s.select(facts({ transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] })), 'mtls');
  assert.equal(s.select(facts({ transportProtocol: 'tls', applicationProtocols: ['h2'] })), 'tlsPassthrough');
  assert.equal(s.select(facts({})), 'plain');
});

test('server names: exact before the longest wildcard, before unset', () => {
  const s = selector({ exact: { server_names: ['api.example.com'] }, wild: { server_names: ['*.example.com'] }, wilder: { server_names: ['*.com'] }, none: {} });
  assert.equal(s.select(facts({ serverName: 'api.example.com' })), 'exact');
  assert.equal(s.select(facts({ serverName: 'www.example.com' })), 'wild');
  assert.equal(s.select(facts({ serverName: 'x.org' })), 'none');
  assert.equal(s.select(facts({ serverName: 'a.b.com' })), 'wilder');
});

test('source type, source prefix and source port come last, in that order', () => {
  const s = selector({
    local: { source_type: 'SAME_IP_OR_LOOPBACK' },
    external6: { source_type: 'EXTERNAL', source_prefix_ranges: [{ address_prefix: '127.0.0.6', prefix_len: 32 }] },
    externalPort: { source_type: 'EXTERNAL', source_ports: [5555] },
  }, 'default');
  assert.equal(s.select(facts({ sourceIp: '127.0.0.1' })), 'local');
  assert.equal(s.select(facts({ sourceIp: '10.0.0.5' })), 'local', 'the same IP as the destination is local');
  assert.equal(s.select(facts({ sourceIp: '10.1.1.1', sourcePort: 5555 })), 'externalPort');
  assert.equal(s.select(facts({ sourceIp: '10.1.1.1', sourcePort: 6666 })), 'default');
});

test('no chain at all: the default chain, or nothing (the connection is closed)', () => {
  assert.equal(selector({}, 'default').select(facts({})), 'default');
  assert.equal(selector({ only: { destination_port: 1 } }).select(facts({})), undefined);
});

test('bad prefixes are config errors with their path', () => {
  const errors: string[] = [];
  compileChainMatch({ prefix_ranges: [{ address_prefix: 'not-an-ip' }], source_prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: 33 }] }, 'fc', errors);
  assert.deepEqual(errors, ["fc.prefix_ranges[0]: 'not-an-ip' is not an IP address", 'fc.source_prefix_ranges[0]: prefix_len 33 is out of range for 10.0.0.0 (0..32)']);
});

test('CIDR arithmetic on IPv4 and IPv6', () => {
  const v6 = parseCidr('fd00::', 8);
  assert.ok(typeof v6 !== 'string');
  assert.ok(cidrContains(v6, ipValue('fd12:3456::1')!));
  assert.ok(!cidrContains(v6, ipValue('fe80::1')!));
  const all = parseCidr('0.0.0.0', 0);
  assert.ok(typeof all !== 'string' && cidrContains(all, ipValue('1.2.3.4')!));
  assert.ok(typeof all !== 'string' && !cidrContains(all, ipValue('::1')!), 'families never mix');
});
