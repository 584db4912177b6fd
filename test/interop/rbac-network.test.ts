/**
 * `envoy.filters.network.rbac` in front of the MetaProtocol proxy, with a real Dubbo provider
 * and consumer: connections allowed and denied by source IP, destination port and principal
 * (the principal comes from a test seam on plaintext connections), a denied connection
 * closed at once with nothing answered, shadow rules that only count.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setPeerIdentitySource } from '../../proxy/downstream/connection-info.js';
import { bootstrapOf, metaProtocolListener, staticCluster } from '../helpers/bootstrap.js';
import { dubboRequest } from '../helpers/dubbo-frames.js';
import { startMeltemi } from '../helpers/meltemi.js';
import type { RunningMeltemi } from '../helpers/meltemi.js';
import { RawDubboClient } from '../helpers/raw-client.js';
import { createSofaConsumer, java, startSofaProvider } from '../peers/dubbo/sofa.js';
import type { Provider } from '../peers/dubbo/sofa.js';
import { peer } from '../helpers/rbac.js';

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
const ANY = [{ any: true }];

function rbacFilter(config: object): object {
  return { name: 'envoy.filters.network.rbac', typed_config: { '@type': RBAC_TYPE, ...config } };
}

function listenerWith(name: string, port: number, filters: object[]): object {
  const l = metaProtocolListener({ name, routes: [{ name: 'all', cluster: 'demo' }] }) as {
    address: { socket_address: { port_value: number } };
    filter_chains: { filters: object[] }[];
  };
  l.address.socket_address.port_value = port;
  l.filter_chains[0]!.filters.unshift(...filters);
  return l;
}

/** A port free right now on 127.0.0.1 (for a policy on destination_port). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends one Dubbo request from `from`; resolves with the replies seen and whether the proxy closed first. */
async function oneCall(port: number, from = '127.0.0.1'): Promise<{ statuses: number[]; closed: boolean; closedAfterMs: number }> {
  const c = await RawDubboClient.connect(port, from);
  const t0 = performance.now();
  c.write(dubboRequest({ id: 7 }));
  await c.until(() => c.closed || c.frames.length > 0, 3000, 'a reply or a close');
  const closedAfterMs = performance.now() - t0;
  const out = { statuses: c.frames.map((f) => f.status), closed: c.closed, closedAfterMs };
  c.close();
  return out;
}

function counter(proxy: RunningMeltemi, name: string): number {
  return proxy.server.statsSnapshot().counters[name] ?? 0;
}

describe('envoy.filters.network.rbac', () => {
  let provider: Provider;
  let proxy: RunningMeltemi;
  let allowedPort: number;

  before(async () => {
    provider = await startSofaProvider({ name: 'rbac' });
    allowedPort = await freePort();
    setPeerIdentitySource((socket) => {
      // The test's stand-in for a TLS handshake: the client's loopback address names it.
      if (socket.remoteAddress === '127.0.0.3') return peer(['spiffe://cluster.local/ns/foo/sa/trusted']);
      if (socket.remoteAddress === '127.0.0.4') return peer(['spiffe://cluster.local/ns/bar/sa/stranger']);
      return undefined;
    });
    proxy = await startMeltemi(
      bootstrapOf(
        [
          // DENY one source address, then ALLOW only the listener's own port (Istio's order: DENY before ALLOW).
          listenerWith('by_ip_and_port', allowedPort, [
            rbacFilter({ stat_prefix: 'ipdeny.', rules: { action: 'DENY', policies: { 'no-127-0-0-2': { permissions: ANY, principals: [{ remote_ip: { address_prefix: '127.0.0.2', prefix_len: 32 } }] } } } }),
            rbacFilter({ stat_prefix: 'portallow.', rules: { policies: { 'this-port': { permissions: [{ destination_port: allowedPort }], principals: ANY } } } }),
          ]),
          listenerWith('wrong_port', 0, [rbacFilter({ stat_prefix: 'wrongport.', rules: { policies: { 'port-1': { permissions: [{ destination_port: 1 }], principals: ANY } } } })]),
          listenerWith('by_principal', 0, [
            rbacFilter({
              stat_prefix: 'tcp.',
              shadow_rules_stat_prefix: 'istio_dry_run_allow_',
              rules: { policies: { 'ns[foo]-policy[p]-rule[0]': { permissions: ANY, principals: [{ authenticated: { principal_name: { safe_regex: { regex: '.*/ns/foo/.*' } } } }] } } },
              shadow_rules: { policies: { 'trusted-only-from-3': { permissions: ANY, principals: [{ remote_ip: { address_prefix: '127.0.0.3' } }] } } },
            }),
          ]),
        ],
        [staticCluster('demo', [provider.port])],
      ),
    );
  });
  after(async () => {
    setPeerIdentitySource(undefined);
    await proxy.close();
    await provider.close();
  });

  test('a real Dubbo consumer is served when every RBAC filter allows its connection', async () => {
    const before = counter(proxy, 'portallow.rbac.allowed');
    const c = await createSofaConsumer(`127.0.0.1:${proxy.listenerPort('by_ip_and_port')}`);
    try {
      assert.equal(await c.invoke('sayHello', [java.String('mesh')]), 'hello mesh from rbac');
    } finally {
      await c.close();
    }
    assert.ok(counter(proxy, 'portallow.rbac.allowed') > before);
    assert.ok(counter(proxy, 'ipdeny.rbac.allowed') > 0, 'the DENY filter let it through and counted it allowed');
  });

  test('a denied source IP: the connection is closed at once, nothing answered, nothing forwarded', async () => {
    const calls = provider.calls.length;
    const denied = counter(proxy, 'ipdeny.rbac.denied');
    const r = await oneCall(proxy.listenerPort('by_ip_and_port'), '127.0.0.2');
    assert.deepEqual(r.statuses, []);
    assert.equal(r.closed, true);
    assert.ok(r.closedAfterMs < 1000, `closed after ${r.closedAfterMs} ms`);
    assert.equal(counter(proxy, 'ipdeny.rbac.denied'), denied + 1);
    assert.equal(provider.calls.length, calls, 'the request never reached the provider');
    assert.equal(counter(proxy, 'portallow.rbac.denied'), 0, 'the first filter decided; the second never ran');
  });

  test('a denied destination port closes the connection; the allowed one serves', async () => {
    const ok = await oneCall(proxy.listenerPort('by_ip_and_port'));
    assert.deepEqual(ok.statuses, [20]);
    const r = await oneCall(proxy.listenerPort('wrong_port'));
    assert.deepEqual([r.statuses, r.closed], [[], true]);
    assert.equal(counter(proxy, 'wrongport.rbac.denied'), 1);
  });

  test('by principal: the trusted namespace is served, another is closed, plaintext without identity is closed', async () => {
    const port = proxy.listenerPort('by_principal');
    const trusted = await oneCall(port, '127.0.0.3');
    assert.deepEqual(trusted.statuses, [20]);
    const stranger = await oneCall(port, '127.0.0.4');
    assert.deepEqual([stranger.statuses, stranger.closed], [[], true]);
    const anonymous = await oneCall(port, '127.0.0.1');
    assert.deepEqual([anonymous.statuses, anonymous.closed], [[], true]);
    assert.equal(counter(proxy, 'tcp.rbac.allowed'), 1);
    assert.equal(counter(proxy, 'tcp.rbac.denied'), 2);
    // The shadow rules judged all three and blocked none.
    assert.equal(counter(proxy, 'tcp.rbac.istio_dry_run_allow_shadow_allowed'), 1);
    assert.equal(counter(proxy, 'tcp.rbac.istio_dry_run_allow_shadow_denied'), 2);
  });

  test('a connection that never sends a byte is not judged (ONE_TIME_ON_FIRST_BYTE)', async () => {
    const before = counter(proxy, 'wrongport.rbac.denied');
    const s = net.connect(proxy.listenerPort('wrong_port'), '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.destroyed, false);
    assert.equal(counter(proxy, 'wrongport.rbac.denied'), before);
    s.destroy();
  });
});
